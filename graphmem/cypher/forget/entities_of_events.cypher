// Entities the Events in $ids involve. Parameters: $namespace, $ids.
UNWIND $ids AS event_id
MATCH (e:Event {id: event_id})-[:INVOLVES]->(n:Entity)
WHERE e.namespace = $namespace
RETURN DISTINCT n.id AS id
