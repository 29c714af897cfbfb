// Integrity: turns of a namespace IN more than one session (each turn is in exactly one). Parameters: $namespace.
MATCH (t:Turn)-[:IN]->(s:Session)
WHERE t.namespace = $namespace
WITH t, count(s) AS sessions
WHERE sessions > 1
RETURN t.id AS id
