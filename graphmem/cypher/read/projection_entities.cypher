// Every entity of a namespace (normalised key, display name, label), for query entity matching.
MATCH (n:Entity)
WHERE n.namespace = $namespace
RETURN n.id AS id, n.key AS key, n.name AS name, n.label AS label
