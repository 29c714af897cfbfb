// Number of embedded sessions in a namespace (ANN staleness check).
MATCH (s:Session)
WHERE s.namespace = $namespace AND s.embedding IS NOT NULL
RETURN count(s) AS count
