// Integrity: Events of a namespace with no INVOLVES edge of role speaker (every event involves the entity
// of who said it, unless that name normalises to nothing; check.py filters those). Parameters: $namespace.
MATCH (e:Event)
WHERE e.namespace = $namespace AND NOT EXISTS { MATCH (e)-[:INVOLVES {role: 'speaker'}]->(:Entity) }
RETURN e.id AS id, e.speaker AS speaker
