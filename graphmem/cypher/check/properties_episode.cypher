// Integrity: the documented properties of every Episode of a namespace (graphmem.schema), whose types
// graphmem check compares with the schema. Parameters: $namespace.
MATCH (n:Episode)
WHERE n.namespace = $namespace
RETURN n.id AS id, n.conversation_id AS conversation_id, n.session_key AS session_key, n.session_number AS session_number, n.start_seq AS start_seq, n.end_seq AS end_seq, n.turn_count AS turn_count, n.text AS text, n.started_at AS started_at, n.ended_at AS ended_at
