// Drop the ASSOCIATED links of the Turns in $ids, both ways (a corrected turn is associated again).
// Parameters: $namespace, $ids.
UNWIND $ids AS turn_id
MATCH (t:Turn {id: turn_id})-[r:ASSOCIATED]-()
WHERE t.namespace = $namespace
DELETE r
