// A namespace's canonical entities (aliases folded in), those in the most events first. Memory.entities.
// Parameters: $namespace, $label (a label or null for all), $limit.
MATCH (e:Entity)
WHERE e.namespace = $namespace AND ($label IS NULL OR e.label = $label) AND NOT (e)-[:ALIAS_OF]->(:Entity)
OPTIONAL MATCH (ev:Event)-[r:INVOLVES]->(e)
WITH e, count(DISTINCT ev) AS events, count(DISTINCT CASE WHEN r.role = 'mention' THEN ev END) AS mentions
ORDER BY events DESC, e.name ASC
LIMIT $limit
OPTIONAL MATCH (a:Entity)-[:ALIAS_OF]->(e)
RETURN e.name AS name, e.label AS label, events, mentions, collect(a.name) AS aliases
