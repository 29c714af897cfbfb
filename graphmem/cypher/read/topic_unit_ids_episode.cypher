// Ids of the namespace's Episodes, in conversation order (refitting episode topics).
MATCH (u:Episode)
WHERE u.namespace = $namespace
RETURN u.id AS id
ORDER BY u.conversation_id, u.start_seq
