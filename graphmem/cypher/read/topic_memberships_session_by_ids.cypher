// The topic memberships of the namespace's Sessions in $ids (linking the topic hierarchy after a refit
// of the granularity below, whose units lie in these sessions only). Parameters: $namespace, $ids.
UNWIND $ids AS unit_id
MATCH (u:Session {id: unit_id})-[r:IN_TOPIC]->(t:Topic)
WHERE u.namespace = $namespace
RETURN u.id AS id, t.id AS topic, r.p AS p
