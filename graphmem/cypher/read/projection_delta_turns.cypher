// The rows of read/projection_turns for the turns IN the sessions $sessions (ids),
// then those of the turns $turns (ids): after an append only the turns of the open
// episode it segmented again are read, by id, not every turn of the session.
UNWIND $sessions AS sid
MATCH (s:Session {id: sid})
MATCH (s)<-[:IN]-(t:Turn)
WHERE s.namespace = $namespace
RETURN t.id AS id, s.id AS session_id, t.conversation_id AS conversation_id, t.seq AS seq,
       t.speaker AS speaker, t.text AS text, t.caption AS caption, t.source_id AS source_id,
       t.timestamp AS timestamp, [k IN keys(t) WHERE k STARTS WITH 'meta_' | [k, t[k]]] AS meta
UNION ALL
UNWIND $turns AS tid
MATCH (t:Turn {id: tid})-[:IN]->(s:Session)
WHERE t.namespace = $namespace
RETURN t.id AS id, s.id AS session_id, t.conversation_id AS conversation_id, t.seq AS seq,
       t.speaker AS speaker, t.text AS text, t.caption AS caption, t.source_id AS source_id,
       t.timestamp AS timestamp, [k IN keys(t) WHERE k STARTS WITH 'meta_' | [k, t[k]]] AS meta
