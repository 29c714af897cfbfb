// Integrity: episodes whose turn_count is not the number of their turns. Parameters: $namespace.
MATCH (e:Episode)
WHERE e.namespace = $namespace
OPTIONAL MATCH (t:Turn)-[:PART_OF]->(e)
WITH e, count(t) AS turns
WHERE e.turn_count <> turns
RETURN e.id AS id
