// Integrity: ids carried by more than one node of a namespace. Parameters: $namespace.
MATCH (n)
WHERE n.namespace = $namespace
WITH n.id AS node_id, count(*) AS copies
WHERE copies > 1
RETURN node_id AS id
