// Hyperedge membership: (Event)-[:INVOLVES {role, surface}]->(Entity). $rows: [{event_id, entity_id, role, surface, surface_key}]
// surface_key is the mention's own normalised name: where it differs from the entity's key the
// mention was resolved through an alias, so a merge can be undone.
// Created where missing (OPTIONAL MATCH, then CREATE with its properties): what MERGE ... ON CREATE SET
// did, but ArcadeDB wrote such an edge twice (created, then given its properties), which cost LoCoMo dev's
// commits 0.4 s. A statement does not see its own creates: its rows must be unique per edge and role.
UNWIND $rows AS row
MATCH (e:Event {id: row.event_id})
MATCH (n:Entity {id: row.entity_id})
OPTIONAL MATCH (e)-[old:INVOLVES {role: row.role}]->(n)
WITH e, n, row, old WHERE old IS NULL
CREATE (e)-[:INVOLVES {role: row.role, surface: row.surface, surface_key: row.surface_key}]->(n)
