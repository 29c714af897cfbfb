// Topic hierarchy of a namespace: (Topic)-[:WITHIN {w}]->(Topic).
MATCH (a:Topic)-[r:WITHIN]->(b:Topic)
WHERE a.namespace = $namespace
RETURN a.id AS src, b.id AS dst, r.w AS w
