// The episode of each Turn in $ids (a corrected turn's episode is recomputed). Parameters: $namespace, $ids.
UNWIND $ids AS turn_id
MATCH (t:Turn {id: turn_id})-[:PART_OF]->(e:Episode)
WHERE t.namespace = $namespace
RETURN t.id AS id, e.id AS episode
