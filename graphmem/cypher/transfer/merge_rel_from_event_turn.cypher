// Import: merge (:Event)-[:FROM]->(:Turn) relationships between nodes already imported, with their properties.
// $rows: [{start, end, props}]
UNWIND $rows AS row
MATCH (a:Event {id: row.start})
MATCH (b:Turn {id: row.end})
MERGE (a)-[r:FROM]->(b)
SET r += row.props
