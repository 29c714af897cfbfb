// Every turn of a namespace with its session, for the in-memory retrieval projection.
MATCH (t:Turn)-[:IN]->(s:Session)
WHERE t.namespace = $namespace
RETURN t.id AS id, s.id AS session_id, t.conversation_id AS conversation_id, t.seq AS seq,
       t.speaker AS speaker, t.text AS text, t.caption AS caption, t.source_id AS source_id,
       t.timestamp AS timestamp, [k IN keys(t) WHERE k STARTS WITH 'meta_' | [k, t[k]]] AS meta
