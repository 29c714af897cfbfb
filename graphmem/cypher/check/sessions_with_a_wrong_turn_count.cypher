// Integrity: sessions whose turn_count is not the number of their turns. Parameters: $namespace.
MATCH (s:Session)
WHERE s.namespace = $namespace
OPTIONAL MATCH (t:Turn)-[:IN]->(s)
WITH s, count(t) AS turns
WHERE s.turn_count <> turns
RETURN s.id AS id
