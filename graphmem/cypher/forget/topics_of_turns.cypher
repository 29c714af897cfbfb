// Topics the Turns in $ids are members of, with how many of them each has. Parameters: $namespace, $ids.
UNWIND $ids AS unit_id
MATCH (u:Turn {id: unit_id})-[:IN_TOPIC]->(t:Topic)
WHERE t.namespace = $namespace
RETURN t.id AS id, count(u) AS members
