// The rows of read/projection_associations that touch the units $units (ids): those from one of
// them, then those into one of them from a unit not among them (each row once). One branch per
// label, found through the id index from $units.
UNWIND $units AS uid
MATCH (a:Turn {id: uid})-[r:ASSOCIATED]->(b)
WHERE a.namespace = $namespace
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
UNION ALL
UNWIND $units AS uid
MATCH (a:Episode {id: uid})-[r:ASSOCIATED]->(b)
WHERE a.namespace = $namespace
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
UNION ALL
UNWIND $units AS uid
MATCH (a:Session {id: uid})-[r:ASSOCIATED]->(b)
WHERE a.namespace = $namespace
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
UNION ALL
UNWIND $units AS uid
MATCH (b:Turn {id: uid})
MATCH (b)<-[r:ASSOCIATED]-(a:Turn)
WHERE a.namespace = $namespace AND NOT a.id IN $units
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
UNION ALL
UNWIND $units AS uid
MATCH (b:Turn {id: uid})
MATCH (b)<-[r:ASSOCIATED]-(a:Episode)
WHERE a.namespace = $namespace AND NOT a.id IN $units
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
UNION ALL
UNWIND $units AS uid
MATCH (b:Turn {id: uid})
MATCH (b)<-[r:ASSOCIATED]-(a:Session)
WHERE a.namespace = $namespace AND NOT a.id IN $units
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
UNION ALL
UNWIND $units AS uid
MATCH (b:Episode {id: uid})
MATCH (b)<-[r:ASSOCIATED]-(a:Turn)
WHERE a.namespace = $namespace AND NOT a.id IN $units
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
UNION ALL
UNWIND $units AS uid
MATCH (b:Episode {id: uid})
MATCH (b)<-[r:ASSOCIATED]-(a:Episode)
WHERE a.namespace = $namespace AND NOT a.id IN $units
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
UNION ALL
UNWIND $units AS uid
MATCH (b:Episode {id: uid})
MATCH (b)<-[r:ASSOCIATED]-(a:Session)
WHERE a.namespace = $namespace AND NOT a.id IN $units
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
UNION ALL
UNWIND $units AS uid
MATCH (b:Session {id: uid})
MATCH (b)<-[r:ASSOCIATED]-(a:Turn)
WHERE a.namespace = $namespace AND NOT a.id IN $units
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
UNION ALL
UNWIND $units AS uid
MATCH (b:Session {id: uid})
MATCH (b)<-[r:ASSOCIATED]-(a:Episode)
WHERE a.namespace = $namespace AND NOT a.id IN $units
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
UNION ALL
UNWIND $units AS uid
MATCH (b:Session {id: uid})
MATCH (b)<-[r:ASSOCIATED]-(a:Session)
WHERE a.namespace = $namespace AND NOT a.id IN $units
RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity
