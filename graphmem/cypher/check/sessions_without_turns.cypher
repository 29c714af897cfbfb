// Integrity: Sessions of a namespace that no Turn is IN. Parameters: $namespace.
MATCH (s:Session)
WHERE s.namespace = $namespace AND NOT EXISTS { MATCH (:Turn)-[:IN]->(s) }
RETURN s.id AS id
