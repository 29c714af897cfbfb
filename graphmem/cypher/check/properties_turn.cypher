// Integrity: the documented properties of every Turn of a namespace (graphmem.schema), whose types
// graphmem check compares with the schema. Parameters: $namespace.
MATCH (n:Turn)
WHERE n.namespace = $namespace
RETURN n.id AS id, n.conversation_id AS conversation_id, n.session_key AS session_key, n.session_number AS session_number, n.index AS index, n.seq AS seq, n.speaker AS speaker, n.text AS text, n.caption AS caption, n.source_id AS source_id, n.timestamp AS timestamp, n.extraction_error AS extraction_error, n.slot AS slot, n.version AS version, n.updated_at AS updated_at
