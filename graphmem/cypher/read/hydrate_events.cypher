// Event details for search hits, with the turn and session they come from.
UNWIND $ids AS id
MATCH (v:Event {id: id})-[:FROM]->(t:Turn)-[:IN]->(s:Session)
WHERE v.namespace = $namespace
RETURN v.id AS id, v.text AS text, v.speaker AS speaker, t.source_id AS source_id,
       coalesce(v.timestamp, t.timestamp) AS timestamp, t.conversation_id AS conversation_id,
       t.id AS turn_id, s.id AS session_id, s.key AS session_key, s.number AS session_number
