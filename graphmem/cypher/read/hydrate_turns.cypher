// Turn details for search hits.
UNWIND $ids AS id
MATCH (t:Turn {id: id})-[:IN]->(s:Session)
WHERE t.namespace = $namespace
RETURN t.id AS id, t.text AS text, t.speaker AS speaker, t.source_id AS source_id,
       t.timestamp AS timestamp, t.caption AS caption, t.conversation_id AS conversation_id,
       t.seq AS seq, s.id AS session_id, s.key AS session_key, s.number AS session_number
