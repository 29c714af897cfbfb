// Every topic membership of the namespace's Episodes (linking the topic hierarchy after a refit).
// Parameters: $namespace.
MATCH (u:Episode)-[r:IN_TOPIC]->(t:Topic)
WHERE u.namespace = $namespace
RETURN u.id AS id, t.id AS topic, r.p AS p
