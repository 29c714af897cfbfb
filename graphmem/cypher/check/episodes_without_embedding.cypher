// Integrity: Episode nodes of a namespace with no embedding (every one is written with one; without it
// the unit is in no ANN index and dense search never finds it). Parameters: $namespace.
MATCH (n:Episode)
WHERE n.namespace = $namespace AND n.embedding IS NULL
RETURN n.id AS id
