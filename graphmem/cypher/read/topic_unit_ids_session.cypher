// Ids of the namespace's Sessions, in conversation order (refitting session topics).
MATCH (u:Session)
WHERE u.namespace = $namespace
RETURN u.id AS id
ORDER BY u.conversation_id, u.number
