// Create Conversation nodes; an existing node is kept unchanged.
// $rows: [{id, props: {namespace, key, speakers, source, ...}}]
UNWIND $rows AS row
MERGE (c:Conversation {id: row.id})
ON CREATE SET c += row.props
