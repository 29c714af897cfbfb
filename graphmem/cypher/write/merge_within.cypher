// Topic hierarchy across granularities: (child:Topic)-[:WITHIN {w}]->(parent:Topic). $rows: [{child, parent, w}]
UNWIND $rows AS row
MATCH (c:Topic {id: row.child})
MATCH (p:Topic {id: row.parent})
MERGE (c)-[r:WITHIN]->(p)
ON CREATE SET r.w = row.w
