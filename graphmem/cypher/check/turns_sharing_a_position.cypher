// Integrity: two or more turns of a conversation at one position (the same seq). Parameters: $namespace.
MATCH (t:Turn)
WHERE t.namespace = $namespace
WITH t.conversation_id AS conversation, t.seq AS seq, collect(t.id) AS ids
WHERE size(ids) > 1
UNWIND ids AS id
RETURN id
