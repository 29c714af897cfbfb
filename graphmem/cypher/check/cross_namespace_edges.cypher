// Integrity: relationships joining a node of a namespace to a node of another namespace (or of none). Parameters: $namespace.
MATCH (a)-[r]-(b)
WHERE a.namespace = $namespace AND (b.namespace IS NULL OR b.namespace <> $namespace)
RETURN DISTINCT a.id + ' -[' + type(r) + ']- ' + coalesce(b.id, '?') AS id
