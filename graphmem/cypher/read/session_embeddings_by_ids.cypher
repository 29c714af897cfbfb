// The embeddings of the Session nodes in $ids (caches catching up with another writer's commits).
// Parameters: $namespace, $ids.
UNWIND $ids AS id
MATCH (s:Session {id: id})
WHERE s.namespace = $namespace AND s.embedding IS NOT NULL
RETURN s.id AS id, s.embedding AS embedding
