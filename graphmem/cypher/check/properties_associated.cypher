// Integrity: the documented properties of every ASSOCIATED relationship of a namespace (graphmem.schema), whose
// types graphmem check compares with the schema; id: its two ends. Parameters: $namespace.
MATCH (a)-[r:ASSOCIATED]->(b)
WHERE a.namespace = $namespace
RETURN a.id + ' -> ' + b.id AS id, r.w AS w, r.granularity AS granularity, r.method AS method
