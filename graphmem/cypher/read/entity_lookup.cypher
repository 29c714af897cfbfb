// An entity found by its key's node id, aliases resolved: the canonical entity, one row per alias
// (alias null when it has none). Memory.entity. Parameters: $namespace, $id (Entity node id).
MATCH (n:Entity {id: $id})
WITH n WHERE n.namespace = $namespace
OPTIONAL MATCH (n)-[:ALIAS_OF]->(c:Entity)
WITH coalesce(c, n) AS e
OPTIONAL MATCH (a:Entity)-[r:ALIAS_OF]->(e)
RETURN e.id AS id, e.name AS name, e.label AS label, e.key AS key, a.name AS alias, r.reason AS reason
