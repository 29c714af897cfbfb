// Integrity: two or more events of a turn at one position (the same turn_id and index: an event written
// twice, which event search returned twice). Parameters: $namespace.
MATCH (e:Event)
WHERE e.namespace = $namespace
WITH e.turn_id AS turn, e.index AS position, collect(e.id) AS ids
WHERE size(ids) > 1
UNWIND ids AS id
RETURN id
