// The rows of read/projection_events for the events FROM turns IN the sessions $sessions (ids).
UNWIND $sessions AS sid
MATCH (s:Session {id: sid})
MATCH (s)<-[:IN]-(t:Turn)<-[:FROM]-(v:Event)
WHERE s.namespace = $namespace AND v.namespace = $namespace
RETURN v.id AS id, t.id AS turn_id, v.speaker AS speaker, v.text AS text, v.timestamp AS timestamp,
       v.time_start AS time_start, v.time_end AS time_end
