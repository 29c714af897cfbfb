// Episodes with text and embedding (refitting episode topics).
MATCH (u:Episode)
WHERE u.namespace = $namespace AND u.embedding IS NOT NULL
RETURN u.id AS id, u.embedding AS embedding, u.text AS text
ORDER BY u.conversation_id, u.start_seq
