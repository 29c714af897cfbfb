// The first stored turn of a conversation after position $seq (to link NEXT when a session is inserted).
MATCH (t:Turn {conversation_id: $conversation_id})
WHERE t.namespace = $namespace AND t.seq > $seq
RETURN t.id AS id, t.seq AS seq
ORDER BY t.seq ASC
LIMIT 1
