// The rows of read/projection_topic_members whose member is one of the units $units (ids), one
// branch per member label, through the id index.
UNWIND $units AS uid
MATCH (x:Turn {id: uid})-[r:IN_TOPIC]->(c:Topic)
WHERE c.namespace = $namespace
RETURN x.id AS member, c.id AS topic, r.p AS p
UNION ALL
UNWIND $units AS uid
MATCH (x:Episode {id: uid})-[r:IN_TOPIC]->(c:Topic)
WHERE c.namespace = $namespace
RETURN x.id AS member, c.id AS topic, r.p AS p
UNION ALL
UNWIND $units AS uid
MATCH (x:Session {id: uid})-[r:IN_TOPIC]->(c:Topic)
WHERE c.namespace = $namespace
RETURN x.id AS member, c.id AS topic, r.p AS p
UNION ALL
UNWIND $units AS uid
MATCH (x:Event {id: uid})-[r:IN_TOPIC]->(c:Topic)
WHERE c.namespace = $namespace
RETURN x.id AS member, c.id AS topic, r.p AS p
