// The rows of read/projection_turn_episodes for the turns IN the sessions $sessions
// ({id, floor}) from position (seq) floor on: an append changes none before its open episode.
UNWIND $sessions AS row
MATCH (s:Session {id: row.id})
MATCH (s)<-[:IN]-(t:Turn)-[:PART_OF]->(e:Episode)
WHERE s.namespace = $namespace AND (row.floor = 0 OR t.seq >= row.floor)
RETURN t.id AS turn_id, e.id AS episode_id
