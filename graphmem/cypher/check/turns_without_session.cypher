// Integrity: Turns of a namespace in no Session ((Turn)-[:IN]->(Session) missing). Parameters: $namespace.
MATCH (t:Turn)
WHERE t.namespace = $namespace AND NOT EXISTS { MATCH (t)-[:IN]->(:Session) }
RETURN t.id AS id
