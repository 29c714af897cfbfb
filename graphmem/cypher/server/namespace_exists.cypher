// Whether a namespace holds anything (every stored turn belongs to a Conversation): one indexed lookup.
MATCH (c:Conversation)
WHERE c.namespace = $namespace
RETURN c.key AS key
LIMIT 1
