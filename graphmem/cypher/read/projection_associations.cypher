// GMM-accepted associations between memories of a namespace (any unit kinds), one branch per
// source label through its namespace index (a label-free MATCH would scan every namespace).
MATCH (a:Turn {namespace: $namespace})-[r:ASSOCIATED]->(b)
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
UNION ALL
MATCH (a:Episode {namespace: $namespace})-[r:ASSOCIATED]->(b)
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
UNION ALL
MATCH (a:Session {namespace: $namespace})-[r:ASSOCIATED]->(b)
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
