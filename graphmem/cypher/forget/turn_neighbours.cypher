// The Turns just before and after each Turn of $ids along the conversation order (NEXT), with
// their positions, to join the chain around a forgotten run without reading the whole
// conversation. Parameters: $namespace, $ids.
UNWIND $ids AS item_id
MATCH (x:Turn {id: item_id})
WHERE x.namespace = $namespace
OPTIONAL MATCH (p:Turn)-[:NEXT]->(x)
WITH x, collect(CASE WHEN p IS NULL THEN null ELSE {id: p.id, seq: p.seq} END) AS before
OPTIONAL MATCH (x)-[:NEXT]->(n:Turn)
RETURN x.id AS id, x.seq AS seq, before,
       collect(CASE WHEN n IS NULL THEN null ELSE {id: n.id, seq: n.seq} END) AS after
