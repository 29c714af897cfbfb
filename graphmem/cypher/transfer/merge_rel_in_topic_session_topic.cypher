// Import: merge (:Session)-[:IN_TOPIC]->(:Topic) relationships between nodes already imported, with their properties.
// $rows: [{start, end, props}]
UNWIND $rows AS row
MATCH (a:Session {id: row.start})
MATCH (b:Topic {id: row.end})
MERGE (a)-[r:IN_TOPIC]->(b)
SET r += row.props
