// All turn embeddings of a namespace (rebuilds the turn ANN index).
MATCH (t:Turn)
WHERE t.namespace = $namespace AND t.embedding IS NOT NULL
RETURN t.id AS id, t.embedding AS embedding
