// Soft GMM membership of Session units: (session)-[:IN_TOPIC {p}]->(Topic). $rows: [{unit_id, topic_id, p}]
UNWIND $rows AS row
MATCH (u:Session {id: row.unit_id})
MATCH (t:Topic {id: row.topic_id})
MERGE (u)-[r:IN_TOPIC]->(t)
ON CREATE SET r.p = row.p
