// Forget: delete the Sessions in $ids with all their relationships. Parameters: $namespace, $ids.
UNWIND $ids AS node_id
MATCH (n:Session {id: node_id})
WHERE n.namespace = $namespace
DETACH DELETE n
