// Turns of the namespace with no IN_TOPIC membership yet, in conversation order
// (placed in topics after each ingest; also what an interrupted ingest left).
MATCH (u:Turn)
WHERE u.namespace = $namespace AND NOT EXISTS { MATCH (u)-[:IN_TOPIC]->(:Topic) }
RETURN u.id AS id
ORDER BY u.conversation_id, u.seq
