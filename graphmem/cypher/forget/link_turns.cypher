// Forget: close the gap a forgotten run of turns leaves in the conversation order: (Turn)-[:NEXT]->(Turn).
// $rows: [{src, dst}]. Parameters: $namespace, $rows.
UNWIND $rows AS row
MATCH (a:Turn {id: row.src})
MATCH (b:Turn {id: row.dst})
WHERE a.namespace = $namespace AND b.namespace = $namespace
MERGE (a)-[:NEXT]->(b)
