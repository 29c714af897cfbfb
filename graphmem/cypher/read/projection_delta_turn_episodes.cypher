// The rows of read/projection_turn_episodes for the turns IN the sessions $sessions (ids).
UNWIND $sessions AS sid
MATCH (s:Session {id: sid})
MATCH (s)<-[:IN]-(t:Turn)-[:PART_OF]->(e:Episode)
WHERE s.namespace = $namespace
RETURN t.id AS turn_id, e.id AS episode_id
