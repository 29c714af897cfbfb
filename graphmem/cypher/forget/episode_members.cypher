// Every member Turn of the Episodes that the Turns in $ids belong to, with what an episode is recomputed from.
// Parameters: $namespace, $ids.
UNWIND $ids AS turn_id
MATCH (:Turn {id: turn_id})-[:PART_OF]->(e:Episode)
WHERE e.namespace = $namespace
WITH DISTINCT e
MATCH (m:Turn)-[:PART_OF]->(e)
OPTIONAL MATCH (m)-[:IN]->(s:Session)
RETURN e.id AS episode, m.id AS id, m.seq AS seq, m.speaker AS speaker, m.text AS text, m.caption AS caption,
       m.embedding AS embedding, coalesce(m.timestamp, s.started_at) AS time
