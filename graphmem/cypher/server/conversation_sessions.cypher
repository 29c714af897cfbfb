// The sessions of one conversation (key, number, start), for the server's temporary POST messages path.
MATCH (s:Session)
WHERE s.namespace = $namespace AND s.conversation_id = $conversation
RETURN s.key AS key, s.number AS number, s.started_at AS started_at
