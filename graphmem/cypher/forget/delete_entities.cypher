// Forget: delete the Entities in $ids that nothing uses any more. Checked again inside the transaction:
// an entity an Event involves, that an entity outside $ids is an alias of, or an alias an Event still
// names its canonical by (INVOLVES.surface_key: a correction's new events, merged before this runs), is kept.
// Parameters: $namespace, $ids.
UNWIND $ids AS entity_id
MATCH (n:Entity {id: entity_id})
WHERE n.namespace = $namespace
  AND NOT EXISTS { MATCH (:Event)-[:INVOLVES]->(n) }
  AND NOT EXISTS { MATCH (a:Entity)-[:ALIAS_OF]->(n) WHERE NOT a.id IN $ids }
  AND NOT EXISTS { MATCH (n)-[:ALIAS_OF]->(:Entity)<-[r:INVOLVES]-(:Event) WHERE r.surface_key = n.key }
DETACH DELETE n
