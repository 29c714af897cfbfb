// Integrity: turns with earlier texts stored whose version number is missing (a correction would write its
// earlier text as version 0 again, beside the stored one). Parameters: $namespace.
MATCH (v:TurnVersion)-[:VERSION_OF]->(t:Turn)
WHERE v.namespace = $namespace AND t.version IS NULL
RETURN DISTINCT t.id AS id
