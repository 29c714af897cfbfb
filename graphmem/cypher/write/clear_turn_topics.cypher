// Drop the topic memberships of the Turns in $ids (a corrected turn is placed again). Parameters: $namespace, $ids.
UNWIND $ids AS turn_id
MATCH (t:Turn {id: turn_id})-[r:IN_TOPIC]->(:Topic)
WHERE t.namespace = $namespace
DELETE r
