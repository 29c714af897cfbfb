// The rows of read/projection_turn_episodes for the turns IN the sessions $sessions (ids),
// then those of the turns $turns (ids): after an append only the turns of the open
// episode it segmented again are read, by id, not every turn of the session.
UNWIND $sessions AS sid
MATCH (s:Session {id: sid})
MATCH (s)<-[:IN]-(t:Turn)-[:PART_OF]->(e:Episode)
WHERE s.namespace = $namespace
RETURN t.id AS turn_id, e.id AS episode_id
UNION ALL
UNWIND $turns AS tid
MATCH (t:Turn {id: tid})-[:PART_OF]->(e:Episode)
WHERE t.namespace = $namespace
RETURN t.id AS turn_id, e.id AS episode_id
