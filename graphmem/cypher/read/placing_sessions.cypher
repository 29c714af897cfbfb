// Topic-placement ledger: the sessions whose units may wait for a topic (a write counted since the
// last placing transaction, or a session written before the ledger, with no count), and the count
// read. Parameters: $namespace.
MATCH (s:Session)
WHERE s.namespace = $namespace AND (s.placing IS NULL OR s.placing <> 0)
RETURN s.id AS id, s.placing AS placing
ORDER BY s.id
