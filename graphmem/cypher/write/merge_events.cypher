// Create Event nodes (one proposition of a turn, with its time and embedding) and (Event)-[:FROM]->(Turn).
// $rows: [{id, turn_id, props}]
UNWIND $rows AS row
MERGE (e:Event {id: row.id})
ON CREATE SET e += row.props
WITH e, row
MATCH (t:Turn {id: row.turn_id})
MERGE (e)-[:FROM]->(t)
