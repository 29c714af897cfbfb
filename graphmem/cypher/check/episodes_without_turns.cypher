// Integrity: Episodes of a namespace with no member Turn ((Turn)-[:PART_OF]->(Episode) missing). Parameters: $namespace.
MATCH (e:Episode)
WHERE e.namespace = $namespace AND NOT EXISTS { MATCH (:Turn)-[:PART_OF]->(e) }
RETURN e.id AS id
