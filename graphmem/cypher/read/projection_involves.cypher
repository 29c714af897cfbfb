// Hyperedge membership: which entities each event of a namespace involves.
MATCH (v:Event)-[r:INVOLVES]->(n:Entity)
WHERE v.namespace = $namespace
RETURN v.id AS event_id, n.id AS entity_id, r.role AS role
