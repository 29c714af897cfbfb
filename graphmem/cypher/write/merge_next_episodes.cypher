// Episode order along the conversation: (Episode)-[:NEXT]->(Episode). $rows: [{src, dst}]
UNWIND $rows AS row
MATCH (a:Episode {id: row.src})
MATCH (b:Episode {id: row.dst})
MERGE (a)-[:NEXT]->(b)
