// Integrity: events whose turn_id is not the turn they come FROM. Parameters: $namespace.
MATCH (e:Event)-[:FROM]->(t:Turn)
WHERE e.namespace = $namespace AND e.turn_id <> t.id
RETURN e.id AS id
