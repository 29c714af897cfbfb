// Integrity: the documented properties of every Event of a namespace (graphmem.schema), whose types
// graphmem check compares with the schema. Parameters: $namespace.
MATCH (n:Event)
WHERE n.namespace = $namespace
RETURN n.id AS id, n.conversation_id AS conversation_id, n.turn_id AS turn_id, n.session_number AS session_number, n.seq AS seq, n.index AS index, n.speaker AS speaker, n.text AS text, n.timestamp AS timestamp, n.time_start AS time_start, n.time_end AS time_end, n.time_expression AS time_expression
