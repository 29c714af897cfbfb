// Import: merge (:Episode)-[:ASSOCIATED]->(:Turn) relationships between nodes already imported, with their properties.
// $rows: [{start, end, props}]
UNWIND $rows AS row
MATCH (a:Episode {id: row.start})
MATCH (b:Turn {id: row.end})
MERGE (a)-[r:ASSOCIATED]->(b)
SET r += row.props
