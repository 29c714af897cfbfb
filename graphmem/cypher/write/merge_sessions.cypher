// Create Session nodes and (Session)-[:OF]->(Conversation).
// $rows: [{id, conversation_id, props: {namespace, key, number, started_at, ...}}]
UNWIND $rows AS row
MERGE (s:Session {id: row.id})
ON CREATE SET s += row.props
WITH s, row
MATCH (c:Conversation {id: row.conversation_id})
MERGE (s)-[:OF]->(c)
