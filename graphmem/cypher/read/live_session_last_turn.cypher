// The last turn of a session (where a live add appends), its episode, and the latest time any of
// its turns was said (a message that came late, older than the one before it, is stored last: the
// session gap counts from the latest time, not from it). Parameters: $namespace, $session_id.
// The last turn is chosen before its episode is matched (matching every turn's episode first took
// 16-22 ms against 6-10 ms in a session of 1,000 turns); the latest time costs one more pass over
// the session's turns (3,000 turns: 23.4 -> 26.5 ms, embedded).
MATCH (s:Session {id: $session_id})<-[:IN]-(u:Turn)
WHERE u.namespace = $namespace
WITH s, max(coalesce(u.timestamp, s.started_at)) AS latest
MATCH (s)<-[:IN]-(t:Turn)
WHERE t.namespace = $namespace
WITH s, t, latest
ORDER BY t.index DESC
LIMIT 1
OPTIONAL MATCH (t)-[:PART_OF]->(e:Episode)
RETURN t.id AS id, t.index AS index, t.seq AS seq, coalesce(t.timestamp, s.started_at) AS time, latest, e.id AS episode
