// Every Turn of the Sessions in $ids, with what a session is recomputed from. Parameters: $namespace, $ids.
UNWIND $ids AS session_id
MATCH (s:Session {id: session_id})
WHERE s.namespace = $namespace
OPTIONAL MATCH (m:Turn)-[:IN]->(s)
RETURN s.id AS session, m.id AS id, m.seq AS seq, m.speaker AS speaker, m.text AS text, m.embedding AS embedding
