// Unique, namespaced content-hash id for every Entity node (MERGE relies on it).
CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE
