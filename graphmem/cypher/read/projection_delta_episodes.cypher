// The rows of read/projection_episodes for the episodes of the sessions $sessions
// ({conversation_id, number}): by their own session properties, so an episode left without
// turns is read as the whole projection reads it.
UNWIND $sessions AS s
MATCH (e:Episode)
WHERE e.namespace = $namespace AND e.conversation_id = s.conversation_id AND e.session_number = s.number
RETURN e.id AS id, e.conversation_id AS conversation_id, e.session_number AS session_number,
       e.start_seq AS start_seq, e.started_at AS started_at, e.ended_at AS ended_at
