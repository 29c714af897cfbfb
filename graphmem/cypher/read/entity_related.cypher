// The entities that take part in the most events beside an entity, where one of the two is named
// in the text (a speaker's every turn with the other speaker is not a relation). Memory.entity.
// Parameters: $namespace, $id (the canonical Entity's node id), $limit.
MATCH (e:Entity {id: $id})
WITH e WHERE e.namespace = $namespace
MATCH (e)<-[r:INVOLVES]-(ev:Event)-[r2:INVOLVES]->(o:Entity)
WHERE o.id <> e.id AND (r.role = $role OR r2.role = $role)
RETURN o.name AS name, o.label AS label, count(DISTINCT ev) AS events
ORDER BY events DESC, name ASC
LIMIT $limit
