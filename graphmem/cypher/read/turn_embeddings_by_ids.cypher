// The embeddings of the Turn nodes in $ids (caches catching up with another writer's commits).
// Parameters: $namespace, $ids.
UNWIND $ids AS id
MATCH (t:Turn {id: id})
WHERE t.namespace = $namespace AND t.embedding IS NOT NULL
RETURN t.id AS id, t.embedding AS embedding
