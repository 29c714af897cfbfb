// Integrity: the id of every Episode of a namespace (check.py reads their texts in batches). Parameters: $namespace.
MATCH (e:Episode)
WHERE e.namespace = $namespace
RETURN e.id AS id
