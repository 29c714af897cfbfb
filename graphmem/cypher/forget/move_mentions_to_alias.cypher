// Forget, promoting an alias (1 of 3): where a canonical Entity is no longer named by its own key (only
// forgotten or corrected messages said it; every remaining mention was resolved through an alias), its
// remaining INVOLVES edges are copied to the alias that becomes canonical (promote_aliases deletes the old
// ones with it). Checked inside the transaction: a canonical an Event names by its own key (a correction's
// new events, merged before this runs) is left as it is, by all three statements alike.
// $rows: [{alias_id, canonical_id}]. Parameters: $namespace, $rows.
UNWIND $rows AS row
MATCH (a:Entity {id: row.alias_id})-[:ALIAS_OF]->(c:Entity {id: row.canonical_id})
WHERE c.namespace = $namespace
  AND NOT EXISTS { MATCH (:Event)-[own:INVOLVES]->(c) WHERE coalesce(own.surface_key, c.key) = c.key }
MATCH (e:Event)-[r:INVOLVES]->(c)
CREATE (e)-[:INVOLVES {role: r.role, surface: r.surface, surface_key: r.surface_key}]->(a)
