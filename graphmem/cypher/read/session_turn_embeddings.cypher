// Embeddings of every turn of the sessions in $ids (to recompute session embeddings).
UNWIND $ids AS sid
MATCH (s:Session {id: sid})<-[:IN]-(t:Turn)
WHERE t.namespace = $namespace
RETURN s.id AS session_id, t.id AS id, t.embedding AS embedding
