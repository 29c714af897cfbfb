// Unique, namespaced content-hash id for every Turn node (MERGE relies on it).
CREATE CONSTRAINT turn_id IF NOT EXISTS FOR (n:Turn) REQUIRE n.id IS UNIQUE
