// The rows of read/projection_sessions for the sessions $sessions (ids) of a namespace: the part
// of the retrieval projection a live add rewrites is re-read, the rest kept. (UNWIND and a
// property match use the id index; `s.id IN $sessions` scans the namespace.)
UNWIND $sessions AS sid
MATCH (s:Session {id: sid})
WHERE s.namespace = $namespace
RETURN s.id AS id, s.conversation_id AS conversation_id, s.key AS key, s.number AS number,
       s.started_at AS started_at
