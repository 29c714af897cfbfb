// Forget: close the gap forgotten episodes leave in the episode order: (Episode)-[:NEXT]->(Episode).
// $rows: [{src, dst}]. Parameters: $namespace, $rows.
UNWIND $rows AS row
MATCH (a:Episode {id: row.src})
MATCH (b:Episode {id: row.dst})
WHERE a.namespace = $namespace AND b.namespace = $namespace
MERGE (a)-[:NEXT]->(b)
