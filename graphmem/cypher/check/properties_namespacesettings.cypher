// Integrity: the documented properties of the NamespaceSettings node of a namespace (graphmem.schema), whose
// types graphmem check compares with the schema. Parameters: $namespace.
MATCH (n:NamespaceSettings)
WHERE n.namespace = $namespace
RETURN n.id AS id, n.timezone AS timezone, n.updated_at AS updated_at, n.embedding_model AS embedding_model
