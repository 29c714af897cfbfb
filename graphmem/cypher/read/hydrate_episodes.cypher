// Episode details for search hits; text is the episode's text (its turns).
UNWIND $ids AS id
MATCH (e:Episode {id: id})
WHERE e.namespace = $namespace
OPTIONAL MATCH (t:Turn)-[:PART_OF]->(e)
WITH e, t ORDER BY t.seq
WITH e, collect(t.source_id) AS source_ids, head(collect(t)) AS first
OPTIONAL MATCH (first)-[:IN]->(s:Session)
RETURN e.id AS id, e.text AS text, e.started_at AS timestamp, e.conversation_id AS conversation_id,
       source_ids, s.id AS session_id, s.key AS session_key, s.number AS session_number
