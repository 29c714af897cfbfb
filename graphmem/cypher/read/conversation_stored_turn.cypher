// One stored turn of a conversation, if any (a conversation whose Conversation node is missing while its
// turns are stored is damage). Parameters: $namespace, $conversation_id (the key).
MATCH (t:Turn {conversation_id: $conversation_id})
WHERE t.namespace = $namespace
RETURN t.id AS id
LIMIT 1
