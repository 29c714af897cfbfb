// The last stored turn of a conversation before position $seq (to link NEXT when appending).
MATCH (t:Turn {conversation_id: $conversation_id})
WHERE t.namespace = $namespace AND t.seq < $seq
RETURN t.id AS id, t.seq AS seq
ORDER BY t.seq DESC
LIMIT 1
