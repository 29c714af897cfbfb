// Number of embedded episodes in a namespace (ANN staleness check).
MATCH (n:Episode)
WHERE n.namespace = $namespace AND n.embedding IS NOT NULL
RETURN count(n) AS count
