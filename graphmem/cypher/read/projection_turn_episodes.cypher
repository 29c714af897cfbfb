// Episode membership of every turn of a namespace: (Turn)-[:PART_OF]->(Episode).
MATCH (t:Turn)-[:PART_OF]->(e:Episode)
WHERE t.namespace = $namespace
RETURN t.id AS turn_id, e.id AS episode_id
