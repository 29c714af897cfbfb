// Number of embedded events in a namespace (ANN staleness check).
MATCH (n:Event)
WHERE n.namespace = $namespace AND n.embedding IS NOT NULL
RETURN count(n) AS count
