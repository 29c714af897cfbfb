// The latest turns that name an entity (role $role), newest first (by when said: a turn's own time, else its session's start). Memory.entity.
// Parameters: $namespace, $id (the canonical Entity's node id), $role, $limit.
MATCH (e:Entity {id: $id})
WITH e WHERE e.namespace = $namespace
MATCH (ev:Event)-[r:INVOLVES]->(e)
WHERE r.role = $role
MATCH (ev)-[:FROM]->(t:Turn)-[:IN]->(s:Session)
WITH DISTINCT t, coalesce(t.timestamp, s.started_at, '') AS said
ORDER BY said DESC, t.conversation_id DESC, t.seq DESC
LIMIT $limit
RETURN t.id AS turn_id, t.conversation_id AS conversation, t.session_key AS session, t.speaker AS speaker,
       t.text AS text, t.caption AS caption, CASE WHEN said = '' THEN null ELSE said END AS timestamp,
       t.source_id AS source_id
