// Integrity: the documented properties of every Topic of a namespace (graphmem.schema), whose types
// graphmem check compares with the schema. Parameters: $namespace.
MATCH (n:Topic)
WHERE n.namespace = $namespace
RETURN n.id AS id, n.granularity AS granularity, n.index AS index, n.label AS label, n.terms AS terms, n.size AS size, n.model_state AS model_state, n.assigned AS assigned
