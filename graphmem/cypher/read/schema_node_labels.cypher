// The node labels of a namespace with their counts (for comparing a store with the documented schema).
// Parameters: $namespace.
MATCH (n)
WHERE n.namespace = $namespace
RETURN labels(n)[0] AS label, count(*) AS count
ORDER BY label
