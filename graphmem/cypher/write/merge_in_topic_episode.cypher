// Soft GMM membership of Episode units: (episode)-[:IN_TOPIC {p}]->(Topic). $rows: [{unit_id, topic_id, p}]
// Created where missing (OPTIONAL MATCH, then CREATE with its properties): what MERGE ... ON CREATE SET
// did, but ArcadeDB wrote such an edge twice (created, then given its properties), which cost LoCoMo dev's
// commits 0.4 s. A statement does not see its own creates: its rows must be unique per edge.
UNWIND $rows AS row
MATCH (u:Episode {id: row.unit_id})
MATCH (t:Topic {id: row.topic_id})
OPTIONAL MATCH (u)-[old:IN_TOPIC]->(t)
WITH u, t, row, old WHERE old IS NULL
CREATE (u)-[:IN_TOPIC {p: row.p}]->(t)
