// Integrity: turns whose conversation_id, session_key or session_number is not their session's (the turn's
// own copies are what messages, filters and forget read). Parameters: $namespace.
MATCH (t:Turn)-[:IN]->(s:Session)
WHERE t.namespace = $namespace
  AND (t.conversation_id <> s.conversation_id OR t.session_key <> s.key OR t.session_number <> s.number)
RETURN t.id AS id
