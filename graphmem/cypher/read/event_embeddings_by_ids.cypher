// The embeddings of the Event nodes in $ids (caches catching up with another writer's commits).
// Parameters: $namespace, $ids.
UNWIND $ids AS id
MATCH (e:Event {id: id})
WHERE e.namespace = $namespace AND e.embedding IS NOT NULL
RETURN e.id AS id, e.embedding AS embedding
