// Sessions with text and embedding (refitting session topics).
MATCH (u:Session)
WHERE u.namespace = $namespace AND u.embedding IS NOT NULL
RETURN u.id AS id, u.embedding AS embedding, u.preview AS text
ORDER BY u.conversation_id, u.number
