// Episodes in $ids with their embedding and each of their turns' (one read: a unit and its turns as
// one state of the store, to confirm a disagreement another writer's commit did not cause). Parameters: $namespace, $ids.
MATCH (t:Turn)-[:PART_OF]->(u:Episode)
WHERE u.namespace = $namespace AND u.id IN $ids
RETURN u.id AS unit_id, u.embedding AS unit_embedding, t.embedding AS turn_embedding
