// The property keys each node label carries in a namespace, with how many nodes carry each (for comparing a store with the documented schema).
// Parameters: $namespace.
MATCH (n)
WHERE n.namespace = $namespace
UNWIND keys(n) AS key
RETURN labels(n)[0] AS label, key, count(*) AS count
ORDER BY label, key
