// The Sessions of the Conversations in $ids. Parameters: $namespace, $ids.
UNWIND $ids AS conversation_id
MATCH (c:Conversation {id: conversation_id})
WHERE c.namespace = $namespace
OPTIONAL MATCH (s:Session)-[:OF]->(c)
RETURN c.id AS conversation, s.id AS session
