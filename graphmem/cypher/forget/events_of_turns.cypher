// Events derived from the Turns in $ids (their FROM provenance). Parameters: $namespace, $ids.
UNWIND $ids AS turn_id
MATCH (e:Event)-[:FROM]->(t:Turn {id: turn_id})
WHERE e.namespace = $namespace
RETURN e.id AS id, e.text AS text
