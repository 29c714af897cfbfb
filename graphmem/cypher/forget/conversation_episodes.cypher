// Order keys of every Episode of the conversations whose keys are in $keys. Parameters: $namespace, $keys.
MATCH (e:Episode)
WHERE e.namespace = $namespace AND e.conversation_id IN $keys
RETURN e.id AS id, e.start_seq AS seq, e.conversation_id AS conversation
