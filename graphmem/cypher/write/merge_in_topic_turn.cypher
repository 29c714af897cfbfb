// Soft GMM membership of Turn units: (turn)-[:IN_TOPIC {p}]->(Topic). $rows: [{unit_id, topic_id, p}]
UNWIND $rows AS row
MATCH (u:Turn {id: row.unit_id})
MATCH (t:Topic {id: row.topic_id})
MERGE (u)-[r:IN_TOPIC]->(t)
ON CREATE SET r.p = row.p
