// Remove (Episode)-[:NEXT]->(Episode) edges that new episodes now sit between. $rows: [{src, dst}].
// Parameters: $namespace, $rows.
UNWIND $rows AS row
MATCH (a:Episode {id: row.src})-[r:NEXT]->(b:Episode {id: row.dst})
WHERE a.namespace = $namespace
DELETE r
