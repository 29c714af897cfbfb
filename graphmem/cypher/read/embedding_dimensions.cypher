// The lengths of a sample of a namespace's stored turn embeddings, with how many of the sample have each
// (a damaged vector is one among many; a namespace made with another model has none of the model's length).
// Parameters: $namespace, $limit.
MATCH (t:Turn)
WHERE t.namespace = $namespace AND t.embedding IS NOT NULL
WITH t LIMIT $limit
RETURN size(t.embedding) AS dimension, count(t) AS turns
