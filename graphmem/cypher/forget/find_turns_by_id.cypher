// Turns chosen for forgetting by id; the other criteria must hold too (see find_turns).
// Parameters: $namespace, $ids (turn ids), $conversation (key or null), $session (key or null), $before (ISO 8601 text or null), $metadata (pairs or null).
UNWIND $ids AS turn_id
MATCH (t:Turn {id: turn_id})
WHERE t.namespace = $namespace
  AND ($conversation IS NULL OR t.conversation_id = $conversation)
  AND ($session IS NULL OR t.session_key = $session)
  AND ($metadata IS NULL OR all(pair IN $metadata WHERE t[pair[0]] = pair[1]))
OPTIONAL MATCH (t)-[:IN]->(s:Session)
WITH t, s
WHERE $before IS NULL OR coalesce(t.timestamp, s.started_at) < $before
RETURN t.id AS id, t.conversation_id AS conversation, s.id AS session_id, t.speaker AS speaker, t.seq AS seq,
       t.text AS text, t.caption AS caption
