// Drop the topic memberships of Turns (a corrected turn is placed again). $rows: [{id}]. Parameters: $namespace, $rows.
UNWIND $rows AS row
MATCH (t:Turn {id: row.id})-[r:IN_TOPIC]->(:Topic)
WHERE t.namespace = $namespace
DELETE r
