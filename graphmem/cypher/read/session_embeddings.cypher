// All session embeddings of a namespace (rebuilds the session ANN index).
MATCH (s:Session)
WHERE s.namespace = $namespace AND s.embedding IS NOT NULL
RETURN s.id AS id, s.embedding AS embedding
