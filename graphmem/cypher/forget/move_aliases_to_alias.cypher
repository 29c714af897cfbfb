// Forget, promoting an alias (2 of 3): the canonical's other aliases become aliases of the promoted one
// (same reason and score), under move_mentions_to_alias's check. $rows: [{alias_id, canonical_id}].
// Parameters: $namespace, $rows.
UNWIND $rows AS row
MATCH (a:Entity {id: row.alias_id})-[:ALIAS_OF]->(c:Entity {id: row.canonical_id})
WHERE c.namespace = $namespace
  AND NOT EXISTS { MATCH (:Event)-[own:INVOLVES]->(c) WHERE coalesce(own.surface_key, c.key) = c.key }
MATCH (b:Entity)-[r:ALIAS_OF]->(c)
WHERE b.id <> a.id
CREATE (b)-[:ALIAS_OF {reason: r.reason, score: r.score}]->(a)
