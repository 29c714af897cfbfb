// Does this namespace hold a conversation? One row when it does (uses the namespace index).
MATCH (c:Conversation)
WHERE c.namespace = $namespace
RETURN c.id AS id
LIMIT 1
