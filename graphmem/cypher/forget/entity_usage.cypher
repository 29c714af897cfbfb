// How the Entities in $ids are used once the Events in $events are gone: events still involving them,
// those of them that name the entity by its own key (own: not resolved through an alias), their ALIAS_OF
// neighbours, and remaining mentions resolved through them as an alias (INVOLVES.surface_key).
// Parameters: $namespace, $ids, $events.
UNWIND $ids AS entity_id
MATCH (n:Entity {id: entity_id})
WHERE n.namespace = $namespace
RETURN n.id AS id, n.key AS key,
       COUNT { MATCH (ev:Event)-[:INVOLVES]->(n) WHERE NOT ev.id IN $events } AS involved,
       COUNT { MATCH (ev:Event)-[r:INVOLVES]->(n) WHERE coalesce(r.surface_key, n.key) = n.key AND NOT ev.id IN $events } AS own,
       [(n)-[:ALIAS_OF]->(c:Entity) | c.id] AS canonicals,
       [(a:Entity)-[:ALIAS_OF]->(n) | a.id] AS aliases,
       COUNT { MATCH (n)-[:ALIAS_OF]->(:Entity)<-[r:INVOLVES]-(ev:Event) WHERE r.surface_key = n.key AND NOT ev.id IN $events } AS surface_uses
