// Forget, promoting an alias (3 of 3): the alias takes the canonical's label and the old canonical goes
// with its edges (its mentions and aliases were moved to the alias), under move_mentions_to_alias's
// check. $rows: [{alias_id, canonical_id}]. Parameters: $namespace, $rows.
UNWIND $rows AS row
MATCH (a:Entity {id: row.alias_id})-[:ALIAS_OF]->(c:Entity {id: row.canonical_id})
WHERE c.namespace = $namespace
  AND NOT EXISTS { MATCH (:Event)-[own:INVOLVES]->(c) WHERE coalesce(own.surface_key, c.key) = c.key }
SET a.label = c.label
DETACH DELETE c
