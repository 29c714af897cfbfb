// Integrity: turns of a namespace PART_OF more than one episode (each turn is in exactly one). Parameters: $namespace.
MATCH (t:Turn)-[:PART_OF]->(e:Episode)
WHERE t.namespace = $namespace
WITH t, count(e) AS episodes
WHERE episodes > 1
RETURN t.id AS id
