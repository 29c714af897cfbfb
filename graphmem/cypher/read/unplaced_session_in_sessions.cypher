// The sessions in $sessions with no IN_TOPIC membership yet, in conversation order (the
// topic-placement ledger's sessions). Parameters: $namespace, $sessions.
UNWIND $sessions AS session_id
MATCH (u:Session {id: session_id})
WHERE u.namespace = $namespace AND NOT EXISTS { MATCH (u)-[:IN_TOPIC]->(:Topic) }
RETURN u.id AS id
ORDER BY u.conversation_id, u.number
