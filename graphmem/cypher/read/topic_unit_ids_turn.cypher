// Ids of the namespace's Turns with an embedding, in conversation order (refitting turn topics).
MATCH (u:Turn)
WHERE u.namespace = $namespace AND u.embedding IS NOT NULL
RETURN u.id AS id
ORDER BY u.conversation_id, u.seq
