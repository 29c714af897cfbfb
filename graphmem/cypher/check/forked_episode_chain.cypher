// Integrity: episodes where the episode order forks: more than one NEXT out of or into the episode.
// Parameters: $namespace.
MATCH (e:Episode)
WHERE e.namespace = $namespace
WITH e, COUNT { MATCH (e)-[:NEXT]->(:Episode) } AS outgoing, COUNT { MATCH (:Episode)-[:NEXT]->(e) } AS incoming
WHERE outgoing > 1 OR incoming > 1
RETURN e.id AS id
