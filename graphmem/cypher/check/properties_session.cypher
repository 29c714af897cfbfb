// Integrity: the documented properties of every Session of a namespace (graphmem.schema), whose types
// graphmem check compares with the schema. Parameters: $namespace.
MATCH (n:Session)
WHERE n.namespace = $namespace
RETURN n.id AS id, n.conversation_id AS conversation_id, n.key AS key, n.number AS number, n.started_at AS started_at, n.date_text AS date_text, n.preview AS preview, n.embedding_scale AS embedding_scale, n.turn_count AS turn_count, n.placing AS placing
