// Conversation order: (Turn)-[:NEXT]->(Turn). $rows: [{src, dst}]
UNWIND $rows AS row
MATCH (a:Turn {id: row.src})
MATCH (b:Turn {id: row.dst})
MERGE (a)-[:NEXT]->(b)
