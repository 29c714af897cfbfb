// Every Session of the namespace in a topic of its granularity, with the text its topics are
// labelled from and each membership (relabelling topics in place after a forget).
// Parameters: $namespace.
MATCH (u:Session)-[r:IN_TOPIC]->(t:Topic)
WHERE u.namespace = $namespace
RETURN u.id AS id, u.preview AS text, t.id AS topic, r.p AS p
ORDER BY u.id
