// Every Turn of the Sessions in $ids, with what a session is recomputed from: its turns' texts, embeddings
// and times, and its own start and date text (moved where they were its first turn's time).
// Parameters: $namespace, $ids.
UNWIND $ids AS session_id
MATCH (s:Session {id: session_id})
WHERE s.namespace = $namespace
OPTIONAL MATCH (m:Turn)-[:IN]->(s)
RETURN s.id AS session, s.started_at AS started_at, s.date_text AS date_text, m.id AS id, m.seq AS seq,
       m.speaker AS speaker, m.text AS text, m.embedding AS embedding, m.timestamp AS time
