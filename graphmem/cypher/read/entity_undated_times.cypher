// The first and last start of the sessions holding an entity's events that carry no time of their
// own (messages added to a dated session without a time are said at its start). Memory.entity.
// Parameters: $namespace, $id (the canonical Entity's node id).
MATCH (e:Entity {id: $id})
WITH e WHERE e.namespace = $namespace
MATCH (ev:Event)-[:INVOLVES]->(e)
WHERE ev.timestamp IS NULL
MATCH (ev)-[:FROM]->(:Turn)-[:IN]->(s:Session)
RETURN min(s.started_at) AS first, max(s.started_at) AS last
