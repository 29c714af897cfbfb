// The neighbourhood of an entity (aliases resolved): the events involving it (one row each, with every role
// the entity has there; $limit counts events), their turns and the other entities they involve.
MATCH (n:Entity)
WHERE n.namespace = $namespace AND (toLower(n.name) = toLower($name) OR n.key = $name)
OPTIONAL MATCH (n)-[:ALIAS_OF]->(canonical:Entity)
WITH DISTINCT coalesce(canonical, n) AS entity
MATCH (ev:Event)-[r:INVOLVES]->(entity)
WITH entity, ev, collect(DISTINCT r.role) AS roles
WITH entity, ev, roles
ORDER BY ev.seq, ev.index
LIMIT $limit
MATCH (ev)-[:FROM]->(t:Turn)
OPTIONAL MATCH (ev)-[r2:INVOLVES]->(other:Entity)
RETURN entity.id AS entity_id, entity.name AS entity_name, entity.label AS entity_label,
       ev.id AS event_id, ev.text AS event_text, ev.speaker AS speaker, roles,
       t.id AS turn_id, t.source_id AS source_id, t.session_number AS session,
       collect(DISTINCT {id: other.id, name: other.name, label: other.label, role: r2.role}) AS others
