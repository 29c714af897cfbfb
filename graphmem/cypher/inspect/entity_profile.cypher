// Who or what is this entity? Its canonical name, label, aliases (with why they were merged) and how often it takes part in events.
// Parameters: $namespace, $name (any name or alias, case-insensitive).
MATCH (n:Entity)
WHERE n.namespace = $namespace AND toLower(n.name) = toLower($name)
OPTIONAL MATCH (n)-[:ALIAS_OF]->(canonical:Entity)
WITH DISTINCT coalesce(canonical, n) AS entity
OPTIONAL MATCH (alias:Entity)-[a:ALIAS_OF]->(entity)
WITH entity, collect(DISTINCT alias.name + ' (' + a.reason + ')') AS aliases
OPTIONAL MATCH (ev:Event)-[r:INVOLVES]->(entity)
RETURN entity.name AS name, entity.label AS label, entity.key AS key, aliases,
       count(DISTINCT ev) AS events, collect(DISTINCT r.role) AS roles
