// The relationship types of a namespace with the labels they join and their property keys (for comparing a store with the documented schema).
// Parameters: $namespace.
MATCH (a)-[r]->(b)
WHERE a.namespace = $namespace
RETURN type(r) AS type, labels(a)[0] AS source, labels(b)[0] AS target, keys(r) AS keys, count(*) AS count
