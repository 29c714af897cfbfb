// Up to $limit Turns of one conversation said by $speaker (does a forgotten or re-attributed turn's
// speaker still speak there?). Parameters: $namespace, $conversation_id (the key), $speaker, $limit.
MATCH (t:Turn {conversation_id: $conversation_id})
WHERE t.namespace = $namespace AND t.speaker = $speaker
RETURN t.id AS id
LIMIT $limit
