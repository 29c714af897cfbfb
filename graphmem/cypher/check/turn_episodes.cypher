// Episode of every turn of a namespace (an episode's embedding is the mean of its turns').
MATCH (t:Turn)-[:PART_OF]->(e:Episode)
WHERE t.namespace = $namespace
RETURN t.id AS turn_id, e.id AS unit_id
