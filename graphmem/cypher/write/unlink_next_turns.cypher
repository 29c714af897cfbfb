// Remove (Turn)-[:NEXT]->(Turn) edges that new turns now sit between. $rows: [{src, dst}]. Parameters: $namespace, $rows.
UNWIND $rows AS row
MATCH (a:Turn {id: row.src})-[r:NEXT]->(b:Turn {id: row.dst})
WHERE a.namespace = $namespace
DELETE r
