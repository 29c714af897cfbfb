// Ids of the namespace's Turns, in conversation order (refitting turn topics).
MATCH (u:Turn)
WHERE u.namespace = $namespace
RETURN u.id AS id
ORDER BY u.conversation_id, u.seq
