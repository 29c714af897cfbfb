// The stored turns of one session, in order: the server's temporary POST messages path
// (used only while Memory.add is missing) rebuilds the session from them plus the new messages.
MATCH (t:Turn)
WHERE t.namespace = $namespace AND t.conversation_id = $conversation AND t.session_key = $session
RETURN t.speaker AS speaker, t.text AS text, t.caption AS caption, t.source_id AS source_id,
       t.timestamp AS timestamp, t.index AS index, t.session_number AS number
ORDER BY t.index ASC
