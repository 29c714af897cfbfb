// Integrity: turns where the NEXT chain breaks off inside a conversation: a turn before the
// conversation's last with no NEXT out, or one after its first with no NEXT in. Parameters: $namespace.
MATCH (t:Turn)
WHERE t.namespace = $namespace
WITH t.conversation_id AS conversation, min(t.seq) AS first, max(t.seq) AS last, collect(t) AS turns
UNWIND turns AS t
WITH t, first, last
WHERE (t.seq < last AND NOT (t)-[:NEXT]->(:Turn)) OR (t.seq > first AND NOT (:Turn)-[:NEXT]->(t))
RETURN t.id AS id
