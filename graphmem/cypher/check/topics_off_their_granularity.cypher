// Integrity: topics of a granularity graphmem does not fit, or two topics of one granularity at one index.
// Parameters: $namespace.
MATCH (t:Topic)
WHERE t.namespace = $namespace
WITH t.granularity AS granularity, t.index AS position, collect(t.id) AS ids
WHERE NOT granularity IN ['turn', 'event', 'episode', 'session'] OR size(ids) > 1
UNWIND ids AS id
RETURN id
