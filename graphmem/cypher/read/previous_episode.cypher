// The last stored episode of a conversation starting before $seq.
MATCH (e:Episode {conversation_id: $conversation_id})
WHERE e.namespace = $namespace AND e.start_seq < $seq
RETURN e.id AS id, e.start_seq AS seq
ORDER BY e.start_seq DESC
LIMIT 1
