// The rows of read/projection_topic_members whose member is one of the units $units, given by
// kind ($turns, $episodes, $sessions, $events): each branch looks up only the ids of its label
// through the id index (a branch per label over all of $units made four lookups per unit).
UNWIND $turns AS uid
MATCH (x:Turn {id: uid})-[r:IN_TOPIC]->(c:Topic)
WHERE c.namespace = $namespace
RETURN x.id AS member, c.id AS topic, r.p AS p
UNION ALL
UNWIND $episodes AS uid
MATCH (x:Episode {id: uid})-[r:IN_TOPIC]->(c:Topic)
WHERE c.namespace = $namespace
RETURN x.id AS member, c.id AS topic, r.p AS p
UNION ALL
UNWIND $sessions AS uid
MATCH (x:Session {id: uid})-[r:IN_TOPIC]->(c:Topic)
WHERE c.namespace = $namespace
RETURN x.id AS member, c.id AS topic, r.p AS p
UNION ALL
UNWIND $events AS uid
MATCH (x:Event {id: uid})-[r:IN_TOPIC]->(c:Topic)
WHERE c.namespace = $namespace
RETURN x.id AS member, c.id AS topic, r.p AS p
