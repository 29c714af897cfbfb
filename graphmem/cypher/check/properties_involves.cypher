// Integrity: the documented properties of every INVOLVES relationship of a namespace (graphmem.schema), whose
// types graphmem check compares with the schema; id: its two ends. Parameters: $namespace.
MATCH (a)-[r:INVOLVES]->(b)
WHERE a.namespace = $namespace
RETURN a.id + ' -> ' + b.id AS id, r.role AS role, r.surface AS surface, r.surface_key AS surface_key
