// Every turn of a session in order, with its embedding and time, and the session's start (a session
// whose running sum is not stored yet, or a correction). Parameters: $namespace, $session_id.
MATCH (s:Session {id: $session_id})<-[:IN]-(t:Turn)
WHERE t.namespace = $namespace
RETURN t.id AS id, t.index AS index, t.speaker AS speaker, t.text AS text, t.embedding AS embedding,
       t.timestamp AS timestamp, s.started_at AS started_at
ORDER BY t.index
