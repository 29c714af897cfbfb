// Association of a new Session with a historical Episode (created once, with the new unit): (a)-[:ASSOCIATED {w, granularity, method}]->(b).
// $rows: [{src, dst, w, granularity, method}]
UNWIND $rows AS row
MATCH (a:Session {id: row.src})
MATCH (b:Episode {id: row.dst})
MERGE (a)-[r:ASSOCIATED]->(b)
ON CREATE SET r.w = row.w, r.granularity = row.granularity, r.method = row.method
