// The rows of read/projection_events for the events FROM turns IN the sessions $sessions (ids),
// then those of the turns $turns (ids): after an append only the turns of the open
// episode it segmented again are read, by id, not every turn of the session.
UNWIND $sessions AS sid
MATCH (s:Session {id: sid})
MATCH (s)<-[:IN]-(t:Turn)<-[:FROM]-(v:Event)
WHERE s.namespace = $namespace AND v.namespace = $namespace
RETURN v.id AS id, t.id AS turn_id, v.speaker AS speaker, v.text AS text, v.timestamp AS timestamp,
       v.time_start AS time_start, v.time_end AS time_end
UNION ALL
UNWIND $turns AS tid
MATCH (t:Turn {id: tid})<-[:FROM]-(v:Event)
WHERE t.namespace = $namespace AND v.namespace = $namespace
RETURN v.id AS id, t.id AS turn_id, v.speaker AS speaker, v.text AS text, v.timestamp AS timestamp,
       v.time_start AS time_start, v.time_end AS time_end
