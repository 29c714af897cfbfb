// Soft topic memberships of a namespace: (unit)-[:IN_TOPIC {p}]->(Topic).
MATCH (x)-[r:IN_TOPIC]->(c:Topic)
WHERE c.namespace = $namespace
RETURN x.id AS member, c.id AS topic, r.p AS p
