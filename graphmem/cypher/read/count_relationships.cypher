// Relationship counts per type in a namespace (counted from the start node).
MATCH (a)-[r]->()
WHERE a.namespace = $namespace
RETURN type(r) AS type, count(*) AS count
