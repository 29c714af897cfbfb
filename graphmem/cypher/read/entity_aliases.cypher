// Every alias edge of a namespace.
MATCH (a:Entity)-[r:ALIAS_OF]->(c:Entity)
WHERE a.namespace = $namespace
RETURN a.key AS alias_key, c.key AS canonical_key, r.reason AS reason, r.score AS score
