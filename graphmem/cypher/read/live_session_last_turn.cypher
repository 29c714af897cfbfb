// The last turn of a session (where a live add appends) and its episode. Parameters: $namespace, $session_id.
MATCH (s:Session {id: $session_id})<-[:IN]-(t:Turn)
WHERE t.namespace = $namespace
OPTIONAL MATCH (t)-[:PART_OF]->(e:Episode)
RETURN t.id AS id, t.index AS index, t.seq AS seq, coalesce(t.timestamp, s.started_at) AS time, e.id AS episode
ORDER BY t.index DESC
LIMIT 1
