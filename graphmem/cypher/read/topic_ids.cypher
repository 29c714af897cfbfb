// Ids of the Topic nodes of one granularity (replaced when that granularity is refitted).
MATCH (t:Topic)
WHERE t.namespace = $namespace AND t.granularity = $granularity
RETURN t.id AS id
