// Entity merges of a namespace: (alias)-[:ALIAS_OF]->(canonical).
MATCH (a:Entity)-[:ALIAS_OF]->(b:Entity)
WHERE a.namespace = $namespace
RETURN a.id AS alias_id, b.id AS entity_id
