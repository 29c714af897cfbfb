// Topic counts per granularity in a namespace.
MATCH (t:Topic)
WHERE t.namespace = $namespace
RETURN t.granularity AS granularity, count(*) AS count
