// Hyperedge membership: which entities each event of a namespace involves.
MATCH (v:Event {namespace: $namespace})-[r:INVOLVES]->(n:Entity)
RETURN v.id AS event_id, n.id AS entity_id, r.role AS role
