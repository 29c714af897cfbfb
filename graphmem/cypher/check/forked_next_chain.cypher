// Integrity: turns where the NEXT chain forks: more than one NEXT out of or into the turn. Parameters: $namespace.
MATCH (t:Turn)
WHERE t.namespace = $namespace
WITH t, COUNT { MATCH (t)-[:NEXT]->(:Turn) } AS outgoing, COUNT { MATCH (:Turn)-[:NEXT]->(t) } AS incoming
WHERE outgoing > 1 OR incoming > 1
RETURN t.id AS id
