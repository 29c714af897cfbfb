// Which episodes are about this entity? Episodes whose events involve it (aliases resolved), most mentions first.
// Parameters: $namespace, $name (any name or alias, case-insensitive), $limit (default 10).
MATCH (n:Entity)
WHERE n.namespace = $namespace AND toLower(n.name) = toLower($name)
OPTIONAL MATCH (n)-[:ALIAS_OF]->(canonical:Entity)
WITH DISTINCT coalesce(canonical, n) AS entity
MATCH (ev:Event)-[:INVOLVES]->(entity)
MATCH (ev)-[:FROM]->(:Turn)-[:PART_OF]->(ep:Episode)
RETURN ep.id AS episode, ep.session_number AS session, ep.started_at AS started_at,
       count(DISTINCT ev) AS mentions, left(ep.text, 160) AS preview
ORDER BY mentions DESC, session ASC
LIMIT $limit
