// Drop the ASSOCIATED links of Turns, both ways (a corrected turn is associated again).
// $rows: [{id}]. Parameters: $namespace, $rows.
UNWIND $rows AS row
MATCH (t:Turn {id: row.id})-[r:ASSOCIATED]-()
WHERE t.namespace = $namespace
DELETE r
