// Integrity: Turns of a namespace in no Episode ((Turn)-[:PART_OF]->(Episode) missing). Parameters: $namespace.
MATCH (t:Turn)
WHERE t.namespace = $namespace AND NOT EXISTS { MATCH (t)-[:PART_OF]->(:Episode) }
RETURN t.id AS id
