// Integrity: the ids of the namespace's change markers (one, whose id is the namespace's marker id).
// Parameters: $namespace.
MATCH (m:ChangeMarker)
WHERE m.namespace = $namespace
RETURN m.id AS id
