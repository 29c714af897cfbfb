// Dump: the relationships leaving the NamespaceSettings nodes in $ids, to nodes of the same namespace.
// Parameters: $namespace, $ids.
UNWIND $ids AS id
MATCH (a:NamespaceSettings {id: id})-[r]->(b)
WHERE a.namespace = $namespace AND b.namespace = $namespace
RETURN a.id AS start, type(r) AS type, labels(b)[0] AS end_label, b.id AS end, properties(r) AS props
