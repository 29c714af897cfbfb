// Integrity: entities that are their own alias, directly or through one other (an ALIAS_OF loop: the
// entity would list itself among its names). Parameters: $namespace.
MATCH (a:Entity)-[:ALIAS_OF]->(b:Entity)
WHERE a.namespace = $namespace AND (a = b OR EXISTS { MATCH (b)-[:ALIAS_OF]->(a) })
RETURN DISTINCT a.id AS id
