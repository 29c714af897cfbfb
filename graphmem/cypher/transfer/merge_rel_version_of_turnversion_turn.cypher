// Import: merge (:TurnVersion)-[:VERSION_OF]->(:Turn) relationships between nodes already imported, with their properties.
// $rows: [{start, end, props}]
UNWIND $rows AS row
MATCH (a:TurnVersion {id: row.start})
MATCH (b:Turn {id: row.end})
MERGE (a)-[r:VERSION_OF]->(b)
SET r += row.props
