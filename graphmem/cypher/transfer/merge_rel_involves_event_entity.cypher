// Import: merge (:Event)-[:INVOLVES]->(:Entity) relationships (one per role) between nodes already imported, with their properties.
// $rows: [{start, end, key, props}]
UNWIND $rows AS row
MATCH (a:Event {id: row.start})
MATCH (b:Entity {id: row.end})
MERGE (a)-[r:INVOLVES {role: row.key}]->(b)
SET r += row.props
