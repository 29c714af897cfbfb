// All episode embeddings of a namespace (rebuilds the episode ANN index).
MATCH (n:Episode)
WHERE n.namespace = $namespace AND n.embedding IS NOT NULL
RETURN n.id AS id, n.embedding AS embedding
