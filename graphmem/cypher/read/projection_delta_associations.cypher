// The rows of read/projection_associations that touch the units $units (ids; the same ids by
// kind in $turns, $episodes, $sessions): those from one of them, then those into one of them
// from a unit not among them (each row once). Each branch looks up only the ids of its label
// through the id index (a branch per label over all of $units made 12 lookups per unit: 74 ms
// for the 617 units of a 300-turn session).
UNWIND $turns AS uid
MATCH (a:Turn {id: uid})-[r:ASSOCIATED]->(b)
WHERE a.namespace = $namespace
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
UNION ALL
UNWIND $episodes AS uid
MATCH (a:Episode {id: uid})-[r:ASSOCIATED]->(b)
WHERE a.namespace = $namespace
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
UNION ALL
UNWIND $sessions AS uid
MATCH (a:Session {id: uid})-[r:ASSOCIATED]->(b)
WHERE a.namespace = $namespace
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
UNION ALL
UNWIND $turns AS uid
MATCH (b:Turn {id: uid})<-[r:ASSOCIATED]-(a)
WHERE b.namespace = $namespace AND NOT a.id IN $units
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
UNION ALL
UNWIND $episodes AS uid
MATCH (b:Episode {id: uid})<-[r:ASSOCIATED]-(a)
WHERE b.namespace = $namespace AND NOT a.id IN $units
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
UNION ALL
UNWIND $sessions AS uid
MATCH (b:Session {id: uid})<-[r:ASSOCIATED]-(a)
WHERE b.namespace = $namespace AND NOT a.id IN $units
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
