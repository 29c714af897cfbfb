// Integrity: Entities of a namespace that no Event INVOLVES and that take part in no ALIAS_OF edge
// (speakers are filtered out afterwards: a speaker whose turns hold no event is still an entity).
// Parameters: $namespace.
MATCH (n:Entity)
WHERE n.namespace = $namespace
  AND NOT EXISTS { MATCH (:Event)-[:INVOLVES]->(n) }
  AND NOT EXISTS { MATCH (n)-[:ALIAS_OF]-(:Entity) }
RETURN n.id AS id, n.key AS key, n.name AS name
