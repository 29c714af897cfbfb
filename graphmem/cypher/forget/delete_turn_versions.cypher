// Forget: delete the earlier versions of the Turns in $ids. Parameters: $namespace, $ids.
UNWIND $ids AS turn_id
MATCH (v:TurnVersion)-[:VERSION_OF]->(t:Turn {id: turn_id})
WHERE t.namespace = $namespace
DETACH DELETE v
