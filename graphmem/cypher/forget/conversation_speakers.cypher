// The speakers listed on each Conversation of a namespace. Parameters: $namespace.
MATCH (c:Conversation)
WHERE c.namespace = $namespace
RETURN c.id AS id, c.speakers AS speakers
