// Hyperedge membership: (Event)-[:INVOLVES {role, surface}]->(Entity). $rows: [{event_id, entity_id, role, surface, surface_key}]
// surface_key is the mention's own normalised name: where it differs from the entity's key the
// mention was resolved through an alias, so a merge can be undone.
UNWIND $rows AS row
MATCH (e:Event {id: row.event_id})
MATCH (n:Entity {id: row.entity_id})
MERGE (e)-[r:INVOLVES {role: row.role}]->(n)
ON CREATE SET r.surface = row.surface, r.surface_key = row.surface_key
