// A live add's view of a conversation: its speakers and its sessions (key, number, start).
// Parameters: $namespace, $conversation_node (the Conversation's id).
MATCH (c:Conversation {id: $conversation_node})
WHERE c.namespace = $namespace
OPTIONAL MATCH (s:Session)-[:OF]->(c)
RETURN c.speakers AS speakers, s.id AS id, s.key AS key, s.number AS number, s.started_at AS started_at,
       s.date_text AS date_text
