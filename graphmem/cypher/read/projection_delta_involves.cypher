// The rows of read/projection_involves for the events FROM turns IN the sessions $sessions (ids).
UNWIND $sessions AS sid
MATCH (s:Session {id: sid})
MATCH (s)<-[:IN]-(t:Turn)<-[:FROM]-(v:Event)-[r:INVOLVES]->(n:Entity)
WHERE s.namespace = $namespace AND v.namespace = $namespace
RETURN v.id AS event_id, n.id AS entity_id, r.role AS role
