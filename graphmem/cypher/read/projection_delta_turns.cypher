// The rows of read/projection_turns for the turns IN the sessions $sessions (ids).
UNWIND $sessions AS sid
MATCH (s:Session {id: sid})
MATCH (s)<-[:IN]-(t:Turn)
WHERE s.namespace = $namespace
RETURN t.id AS id, s.id AS session_id, t.conversation_id AS conversation_id, t.seq AS seq,
       t.speaker AS speaker, t.text AS text, t.caption AS caption, t.source_id AS source_id,
       t.timestamp AS timestamp
