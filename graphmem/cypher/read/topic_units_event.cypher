// Events with text and embedding (refitting event topics).
MATCH (u:Event)
WHERE u.namespace = $namespace AND u.embedding IS NOT NULL
RETURN u.id AS id, u.embedding AS embedding, u.text AS text
ORDER BY u.conversation_id, u.seq, u.index
