// Import: merge (:Turn)-[:IN_TOPIC]->(:Topic) relationships between nodes already imported, with their properties.
// $rows: [{start, end, props}]
UNWIND $rows AS row
MATCH (a:Turn {id: row.start})
MATCH (b:Topic {id: row.end})
MERGE (a)-[r:IN_TOPIC]->(b)
SET r += row.props
