// Integrity: every ALIAS_OF edge with its reason and score (checked against the reasons graphmem writes).
// Parameters: $namespace.
MATCH (a:Entity)-[r:ALIAS_OF]->(b:Entity)
WHERE a.namespace = $namespace
RETURN a.id AS alias, b.id AS canonical, r.reason AS reason, r.score AS score
