// Import: merge (:Session)-[:OF]->(:Conversation) relationships between nodes already imported, with their properties.
// $rows: [{start, end, props}]
UNWIND $rows AS row
MATCH (a:Session {id: row.start})
MATCH (b:Conversation {id: row.end})
MERGE (a)-[r:OF]->(b)
SET r += row.props
