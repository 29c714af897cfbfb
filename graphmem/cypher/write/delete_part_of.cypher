// Move turns out of an episode (a boundary found inside an open episode). $rows: [{turn_id, episode_id}].
// Parameters: $namespace, $rows.
UNWIND $rows AS row
MATCH (t:Turn {id: row.turn_id})-[r:PART_OF]->(e:Episode {id: row.episode_id})
WHERE t.namespace = $namespace
DELETE r
