// Number of embedded turns in a namespace (ANN staleness check).
MATCH (t:Turn)
WHERE t.namespace = $namespace AND t.embedding IS NOT NULL
RETURN count(t) AS count
