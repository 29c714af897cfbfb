// Order keys of every Turn of the conversations whose keys are in $keys. Parameters: $namespace, $keys.
UNWIND $keys AS key
MATCH (t:Turn)
WHERE t.namespace = $namespace AND t.conversation_id = key
RETURN t.id AS id, t.seq AS seq, key AS conversation
