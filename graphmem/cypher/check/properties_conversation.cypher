// Integrity: the documented properties of every Conversation of a namespace (graphmem.schema), whose types
// graphmem check compares with the schema. Parameters: $namespace.
MATCH (n:Conversation)
WHERE n.namespace = $namespace
RETURN n.id AS id, n.key AS key, n.speakers AS speakers, n.source AS source
