// What topics does this memory have? Lists every Topic with its granularity, label and size.
// Parameters: $namespace (the tenant).
MATCH (t:Topic)
WHERE t.namespace = $namespace
RETURN t.granularity AS granularity, t.label AS label, t.size AS size, t.id AS topic_id
ORDER BY granularity, size DESC
