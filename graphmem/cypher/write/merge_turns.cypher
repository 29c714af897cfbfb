// Create Turn nodes (text, speaker, time, source id, embedding) and (Turn)-[:IN]->(Session).
// $rows: [{id, session_id, props: {namespace, conversation_id, seq, speaker, text, embedding, ...}}]
UNWIND $rows AS row
MERGE (t:Turn {id: row.id})
ON CREATE SET t += row.props
WITH t, row
MATCH (s:Session {id: row.session_id})
MERGE (t)-[:IN]->(s)
