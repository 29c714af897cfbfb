// Ids of the namespace's Events with an embedding, in conversation order (refitting event topics).
MATCH (u:Event)
WHERE u.namespace = $namespace AND u.embedding IS NOT NULL
RETURN u.id AS id
ORDER BY u.conversation_id, u.seq, u.index
