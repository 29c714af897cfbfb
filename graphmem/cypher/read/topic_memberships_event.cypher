// Every topic membership of the namespace's Events (linking the topic hierarchy after a refit).
// Parameters: $namespace.
MATCH (u:Event)-[r:IN_TOPIC]->(t:Topic)
WHERE u.namespace = $namespace
RETURN u.id AS id, t.id AS topic, r.p AS p
