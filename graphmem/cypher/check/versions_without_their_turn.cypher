// Integrity: earlier texts (TurnVersion) not joined VERSION_OF to the turn their turn_id names: history would
// leave them out. Parameters: $namespace.
MATCH (v:TurnVersion)
WHERE v.namespace = $namespace AND NOT EXISTS { MATCH (v)-[:VERSION_OF]->(t:Turn) WHERE t.id = v.turn_id }
RETURN v.id AS id
