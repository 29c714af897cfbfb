// Integrity: entities that share a normalised name (key): one entity per key, so a mention resolves to one.
// Parameters: $namespace.
MATCH (n:Entity)
WHERE n.namespace = $namespace
WITH n.key AS key, collect(n.id) AS ids
WHERE size(ids) > 1
UNWIND ids AS id
RETURN id
