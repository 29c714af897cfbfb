// Every topic of a namespace (granularity, label), for the retrieval projection.
MATCH (c:Topic)
WHERE c.namespace = $namespace
RETURN c.id AS id, c.granularity AS granularity, c.label AS label
