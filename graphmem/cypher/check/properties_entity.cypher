// Integrity: the documented properties of every Entity of a namespace (graphmem.schema), whose types
// graphmem check compares with the schema. Parameters: $namespace.
MATCH (n:Entity)
WHERE n.namespace = $namespace
RETURN n.id AS id, n.key AS key, n.name AS name, n.label AS label
