// Every session of a namespace (number, start time), for the retrieval projection.
MATCH (s:Session)
WHERE s.namespace = $namespace
RETURN s.id AS id, s.conversation_id AS conversation_id, s.key AS key, s.number AS number,
       s.started_at AS started_at
