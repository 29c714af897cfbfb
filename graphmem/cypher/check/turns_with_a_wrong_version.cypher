// Integrity: corrected turns whose version is not their number of earlier texts (the first text is version 0).
// Parameters: $namespace.
MATCH (t:Turn)
WHERE t.namespace = $namespace AND t.version IS NOT NULL
OPTIONAL MATCH (v:TurnVersion)-[:VERSION_OF]->(t)
WITH t, count(v) AS versions
WHERE t.version <> versions
RETURN t.id AS id
