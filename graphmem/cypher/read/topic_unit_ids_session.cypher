// Ids of the namespace's Sessions with an embedding, in conversation order (refitting session topics).
MATCH (u:Session)
WHERE u.namespace = $namespace AND u.embedding IS NOT NULL
RETURN u.id AS id
ORDER BY u.conversation_id, u.number
