// Integrity: alias entities pointing at more than one canonical entity (a name means one thing).
// Parameters: $namespace.
MATCH (a:Entity)-[r:ALIAS_OF]->(:Entity)
WHERE a.namespace = $namespace
WITH a, count(r) AS canonicals
WHERE canonicals > 1
RETURN a.id AS id
