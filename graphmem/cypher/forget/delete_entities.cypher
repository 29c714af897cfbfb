// Forget: delete the Entities in $ids that nothing uses any more. Checked again inside the transaction:
// an entity an Event involves, or that an entity outside $ids is an alias of, is kept.
// Parameters: $namespace, $ids.
UNWIND $ids AS entity_id
MATCH (n:Entity {id: entity_id})
WHERE n.namespace = $namespace
  AND NOT EXISTS { MATCH (:Event)-[:INVOLVES]->(n) }
  AND NOT EXISTS { MATCH (a:Entity)-[:ALIAS_OF]->(n) WHERE NOT a.id IN $ids }
DETACH DELETE n
