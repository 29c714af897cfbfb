// Turns chosen for forgetting: every given criterion must hold (conversation key, session key, time before,
// message metadata: $metadata, [[meta_<key>, value], ...] pairs the turn's properties must all equal).
// A turn's time is its timestamp, else its session's start; undated turns are never "before" anything.
// Parameters: $namespace, $conversation (key or null), $session (key or null), $before (ISO 8601 text or null), $metadata (pairs or null).
MATCH (t:Turn)
WHERE t.namespace = $namespace
  AND ($conversation IS NULL OR t.conversation_id = $conversation)
  AND ($session IS NULL OR t.session_key = $session)
  AND ($metadata IS NULL OR all(pair IN $metadata WHERE t[pair[0]] = pair[1]))
OPTIONAL MATCH (t)-[:IN]->(s:Session)
WITH t, s
WHERE $before IS NULL OR coalesce(t.timestamp, s.started_at) < $before
RETURN t.id AS id, t.conversation_id AS conversation, s.id AS session_id, t.speaker AS speaker, t.seq AS seq,
       t.text AS text, t.caption AS caption
