// Association of a new Session with a historical Episode (created once, with the new unit): (a)-[:ASSOCIATED {w, granularity, method}]->(b).
// $rows: [{src, dst, w, granularity, method}]
// Created where missing (OPTIONAL MATCH, then CREATE with its properties): what MERGE ... ON CREATE SET
// did, but ArcadeDB wrote such an edge twice (created, then given its properties), which cost LoCoMo dev's
// commits 0.4 s. A statement does not see its own creates: its rows must be unique per edge.
UNWIND $rows AS row
MATCH (a:Session {id: row.src})
MATCH (b:Episode {id: row.dst})
OPTIONAL MATCH (a)-[old:ASSOCIATED]->(b)
WITH a, b, row, old WHERE old IS NULL
CREATE (a)-[:ASSOCIATED {w: row.w, granularity: row.granularity, method: row.method}]->(b)
