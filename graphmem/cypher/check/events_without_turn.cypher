// Integrity: Events of a namespace with no (Event)-[:FROM]->(Turn) provenance. Parameters: $namespace.
MATCH (e:Event)
WHERE e.namespace = $namespace AND NOT EXISTS { MATCH (e)-[:FROM]->(:Turn) }
RETURN e.id AS id
