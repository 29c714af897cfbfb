// Import: merge (:Entity)-[:ALIAS_OF]->(:Entity) relationships between nodes already imported, with their properties.
// $rows: [{start, end, props}]
UNWIND $rows AS row
MATCH (a:Entity {id: row.start})
MATCH (b:Entity {id: row.end})
MERGE (a)-[r:ALIAS_OF]->(b)
SET r += row.props
