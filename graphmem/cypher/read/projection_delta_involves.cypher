// The rows of read/projection_involves for the events FROM turns IN the sessions $sessions
// ({id, floor}) from position (seq) floor on: an append changes none before its open episode.
UNWIND $sessions AS row
MATCH (s:Session {id: row.id})
MATCH (s)<-[:IN]-(t:Turn)<-[:FROM]-(v:Event)-[r:INVOLVES]->(n:Entity)
WHERE s.namespace = $namespace AND (row.floor = 0 OR t.seq >= row.floor) AND v.namespace = $namespace
RETURN v.id AS event_id, n.id AS entity_id, r.role AS role
