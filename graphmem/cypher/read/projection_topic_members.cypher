// Soft topic memberships of a namespace: (unit)-[:IN_TOPIC {p}]->(Topic), found from the
// namespace's topics (through the Topic namespace index, not by scanning every membership).
MATCH (c:Topic {namespace: $namespace})<-[r:IN_TOPIC]-(x)
RETURN x.id AS member, c.id AS topic, r.p AS p
