// The rows of read/projection_involves for the events FROM turns IN the sessions $sessions (ids),
// then those of the turns $turns (ids): after an append only the turns of the open
// episode it segmented again are read, by id, not every turn of the session.
UNWIND $sessions AS sid
MATCH (s:Session {id: sid})
MATCH (s)<-[:IN]-(t:Turn)<-[:FROM]-(v:Event)-[r:INVOLVES]->(n:Entity)
WHERE s.namespace = $namespace AND v.namespace = $namespace
RETURN v.id AS event_id, n.id AS entity_id, r.role AS role
UNION ALL
UNWIND $turns AS tid
MATCH (t:Turn {id: tid})<-[:FROM]-(v:Event)-[r:INVOLVES]->(n:Entity)
WHERE t.namespace = $namespace AND v.namespace = $namespace
RETURN v.id AS event_id, n.id AS entity_id, r.role AS role
