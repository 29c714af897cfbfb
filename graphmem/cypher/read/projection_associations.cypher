// GMM-accepted associations between memories of a namespace (any unit kinds).
MATCH (a)-[r:ASSOCIATED]->(b)
WHERE a.namespace = $namespace
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
