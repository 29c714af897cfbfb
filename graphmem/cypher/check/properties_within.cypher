// Integrity: the documented properties of every WITHIN relationship of a namespace (graphmem.schema), whose
// types graphmem check compares with the schema; id: its two ends. Parameters: $namespace.
MATCH (a)-[r:WITHIN]->(b)
WHERE a.namespace = $namespace
RETURN a.id + ' -> ' + b.id AS id, r.w AS w
