// Forget: delete the Events in $ids with all their relationships. Parameters: $namespace, $ids.
UNWIND $ids AS node_id
MATCH (n:Event {id: node_id})
WHERE n.namespace = $namespace
DETACH DELETE n
