// Session details for search hits; text is a preview of its first turns.
UNWIND $ids AS id
MATCH (s:Session {id: id})
WHERE s.namespace = $namespace
RETURN s.id AS id, s.key AS session_key, s.number AS session_number, s.started_at AS timestamp,
       s.conversation_id AS conversation_id, s.preview AS text
