// Re-embedding on import: the embeddings of the turns of the Sessions in $ids (a session's vector is their mean).
// Parameters: $namespace, $ids.
UNWIND $ids AS id
MATCH (s:Session {id: id})<-[:IN]-(t:Turn)
WHERE s.namespace = $namespace AND t.embedding IS NOT NULL
RETURN s.id AS owner, t.embedding AS embedding
