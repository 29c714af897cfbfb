// The member turns of an episode in order, with what an episode is computed from. Parameters: $namespace, $id.
MATCH (e:Episode {id: $id})<-[:PART_OF]-(t:Turn)
WHERE t.namespace = $namespace
OPTIONAL MATCH (t)-[:IN]->(s:Session)
RETURN t.id AS id, t.seq AS seq, t.index AS index, t.speaker AS speaker, t.text AS text, t.caption AS caption,
       t.embedding AS embedding, t.timestamp AS timestamp, coalesce(t.timestamp, s.started_at) AS time
ORDER BY t.seq
