// Every entity of a namespace (the entity resolver's memory).
MATCH (n:Entity)
WHERE n.namespace = $namespace
RETURN n.key AS key, n.name AS name, n.label AS label
