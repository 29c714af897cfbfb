// The rows of read/projection_turns for the turns IN the sessions $sessions
// ({id, floor}) from position (seq) floor on: an append changes none before its open episode.
UNWIND $sessions AS row
MATCH (s:Session {id: row.id})
MATCH (s)<-[:IN]-(t:Turn)
WHERE s.namespace = $namespace AND (row.floor = 0 OR t.seq >= row.floor)
RETURN t.id AS id, s.id AS session_id, t.conversation_id AS conversation_id, t.seq AS seq,
       t.speaker AS speaker, t.text AS text, t.caption AS caption, t.source_id AS source_id,
       t.timestamp AS timestamp
