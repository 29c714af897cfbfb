// Node counts per label in a namespace.
MATCH (n)
WHERE n.namespace = $namespace
RETURN labels(n)[0] AS label, count(*) AS count
