// Import: merge (:Topic)-[:WITHIN]->(:Topic) relationships between nodes already imported, with their properties.
// $rows: [{start, end, props}]
UNWIND $rows AS row
MATCH (a:Topic {id: row.start})
MATCH (b:Topic {id: row.end})
MERGE (a)-[r:WITHIN]->(b)
SET r += row.props
