// Every episode of a namespace with its time span, for the retrieval projection.
MATCH (e:Episode)
WHERE e.namespace = $namespace
RETURN e.id AS id, e.conversation_id AS conversation_id, e.session_number AS session_number,
       e.start_seq AS start_seq, e.started_at AS started_at, e.ended_at AS ended_at
