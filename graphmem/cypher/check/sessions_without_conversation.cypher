// Integrity: Sessions of a namespace in no Conversation ((Session)-[:OF]->(Conversation) missing). Parameters: $namespace.
MATCH (s:Session)
WHERE s.namespace = $namespace AND NOT EXISTS { MATCH (s)-[:OF]->(:Conversation) }
RETURN s.id AS id
