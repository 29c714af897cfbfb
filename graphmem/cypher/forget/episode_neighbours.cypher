// The Episodes just before and after each Episode of $ids along the conversation order (NEXT), with
// their positions, to join the chain around a forgotten run without reading the whole
// conversation. Parameters: $namespace, $ids.
UNWIND $ids AS item_id
MATCH (x:Episode {id: item_id})
WHERE x.namespace = $namespace
OPTIONAL MATCH (p:Episode)-[:NEXT]->(x)
WITH x, collect(CASE WHEN p IS NULL THEN null ELSE {id: p.id, seq: p.start_seq} END) AS before
OPTIONAL MATCH (x)-[:NEXT]->(n:Episode)
RETURN x.id AS id, x.start_seq AS seq, before,
       collect(CASE WHEN n IS NULL THEN null ELSE {id: n.id, seq: n.start_seq} END) AS after
