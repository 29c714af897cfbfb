// Ids of the namespace's Events, in conversation order (refitting event topics).
MATCH (u:Event)
WHERE u.namespace = $namespace
RETURN u.id AS id
ORDER BY u.conversation_id, u.seq, u.index
