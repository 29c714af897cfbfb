// Integrity: the documented properties of every ALIAS_OF relationship of a namespace (graphmem.schema), whose
// types graphmem check compares with the schema; id: its two ends. Parameters: $namespace.
MATCH (a)-[r:ALIAS_OF]->(b)
WHERE a.namespace = $namespace
RETURN a.id + ' -> ' + b.id AS id, r.reason AS reason, r.score AS score
