// The rows of read/projection_events for the events FROM turns IN the sessions $sessions
// ({id, floor}) from position (seq) floor on: an append changes none before its open episode.
UNWIND $sessions AS row
MATCH (s:Session {id: row.id})
MATCH (s)<-[:IN]-(t:Turn)<-[:FROM]-(v:Event)
WHERE s.namespace = $namespace AND (row.floor = 0 OR t.seq >= row.floor) AND v.namespace = $namespace
RETURN v.id AS id, t.id AS turn_id, v.speaker AS speaker, v.text AS text, v.timestamp AS timestamp,
       v.time_start AS time_start, v.time_end AS time_end
