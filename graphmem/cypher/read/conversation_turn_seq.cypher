// Where a turn of a conversation sits (its Turn.seq), to page back from it.
// Parameters: $namespace, $conversation_id (the key), $id.
MATCH (t:Turn {id: $id})
WHERE t.namespace = $namespace AND t.conversation_id = $conversation_id
RETURN t.seq AS seq
