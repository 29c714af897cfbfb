// Integrity: events whose turn_id is not the turn they come FROM, or whose speaker is not that turn's (a
// turn's speaker changed in place: its events still name who said it before). Parameters: $namespace.
MATCH (e:Event)-[:FROM]->(t:Turn)
WHERE e.namespace = $namespace AND (e.turn_id <> t.id OR e.speaker <> t.speaker)
RETURN e.id AS id
