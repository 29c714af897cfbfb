// Length of the stored embeddings of a namespace (from one turn; none when it holds no turn). Parameters: $namespace.
MATCH (t:Turn)
WHERE t.namespace = $namespace AND t.embedding IS NOT NULL
RETURN size(t.embedding) AS dimension
LIMIT 1
