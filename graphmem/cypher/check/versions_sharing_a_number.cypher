// Integrity: turns two of whose earlier texts carry one version number (history would list it twice).
// Parameters: $namespace.
MATCH (v:TurnVersion)-[:VERSION_OF]->(t:Turn)
WHERE v.namespace = $namespace
WITH t, v.version AS number, count(v) AS copies
WHERE copies > 1
RETURN DISTINCT t.id AS id
