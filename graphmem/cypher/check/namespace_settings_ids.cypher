// Integrity: the ids of the namespace's settings nodes (one, whose id is the namespace's settings id).
// Parameters: $namespace.
MATCH (s:NamespaceSettings)
WHERE s.namespace = $namespace
RETURN s.id AS id
