// Integrity: the documented properties of every IN_TOPIC relationship of a namespace (graphmem.schema), whose
// types graphmem check compares with the schema; id: its two ends. Parameters: $namespace.
MATCH (a)-[r:IN_TOPIC]->(b)
WHERE a.namespace = $namespace
RETURN a.id + ' -> ' + b.id AS id, r.p AS p
