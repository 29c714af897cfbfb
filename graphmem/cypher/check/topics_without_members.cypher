// Integrity: Topics of a namespace that no unit is IN_TOPIC of. Parameters: $namespace.
MATCH (t:Topic)
WHERE t.namespace = $namespace AND NOT EXISTS { MATCH ()-[:IN_TOPIC]->(t) }
RETURN t.id AS id
