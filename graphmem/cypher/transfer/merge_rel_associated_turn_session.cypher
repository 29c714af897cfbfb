// Import: merge (:Turn)-[:ASSOCIATED]->(:Session) relationships between nodes already imported, with their properties.
// $rows: [{start, end, props}]
UNWIND $rows AS row
MATCH (a:Turn {id: row.start})
MATCH (b:Session {id: row.end})
MERGE (a)-[r:ASSOCIATED]->(b)
SET r += row.props
