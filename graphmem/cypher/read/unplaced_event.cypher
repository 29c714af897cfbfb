// Events of the namespace with an embedding but no IN_TOPIC membership yet, in conversation order
// (placed in topics after each ingest; also what an interrupted ingest left).
MATCH (u:Event)
WHERE u.namespace = $namespace AND u.embedding IS NOT NULL
OPTIONAL MATCH (u)-[m:IN_TOPIC]->(:Topic)
WITH u, count(m) AS memberships
WHERE memberships = 0
RETURN u.id AS id
ORDER BY u.conversation_id, u.seq, u.index
