// The last $limit messages of a conversation (of one session when $session is not null; before the
// position $before_seq when it is not null), newest first (the caller puts them back in order); a
// message stored without a time of its own was said at its session's start.
// Parameters: $namespace, $conversation_id (the key), $session (a session key or null),
// $before_seq (a Turn.seq or null), $limit.
MATCH (t:Turn {conversation_id: $conversation_id})
WHERE t.namespace = $namespace AND ($session IS NULL OR t.session_key = $session)
  AND ($before_seq IS NULL OR t.seq < $before_seq)
WITH t ORDER BY t.seq DESC LIMIT $limit
OPTIONAL MATCH (t)-[:IN]->(s:Session)
RETURN t.id AS turn_id, t.session_key AS session, t.session_number AS session_number, t.index AS index,
       t.speaker AS speaker, t.text AS text, t.caption AS caption, coalesce(t.timestamp, s.started_at) AS timestamp,
       t.source_id AS source_id, coalesce(t.version, 0) AS version, t.seq AS seq,
       [k IN keys(t) WHERE k STARTS WITH 'meta_' | [k, t[k]]] AS meta
ORDER BY seq DESC
