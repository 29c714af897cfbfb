// Integrity: Conversations of a namespace with no Session. Parameters: $namespace.
MATCH (c:Conversation)
WHERE c.namespace = $namespace AND NOT EXISTS { MATCH (:Session)-[:OF]->(c) }
RETURN c.id AS id
