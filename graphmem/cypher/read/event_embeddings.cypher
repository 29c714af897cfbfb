// All event embeddings of a namespace (rebuilds the event ANN index).
MATCH (n:Event)
WHERE n.namespace = $namespace AND n.embedding IS NOT NULL
RETURN n.id AS id, n.embedding AS embedding
