// The sessions of a conversation (only the one keyed $session when it is not null), latest first:
// where Memory.messages reads a conversation back from. Parameters: $namespace, $id (the
// Conversation node id), $session (a session key or null).
MATCH (c:Conversation {id: $id})<-[:OF]-(s:Session)
WHERE c.namespace = $namespace AND ($session IS NULL OR s.key = $session)
RETURN s.id AS id, s.number AS number, s.started_at AS started_at
ORDER BY s.number DESC
