// Ids of the namespace's Episodes with an embedding, in conversation order (refitting episode topics).
MATCH (u:Episode)
WHERE u.namespace = $namespace AND u.embedding IS NOT NULL
RETURN u.id AS id
ORDER BY u.conversation_id, u.start_seq
