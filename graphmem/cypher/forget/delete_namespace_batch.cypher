// Delete up to $limit nodes of one namespace with their relationships; repeat until it returns 0.
MATCH (n)
WHERE n.namespace = $namespace
WITH n LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted
