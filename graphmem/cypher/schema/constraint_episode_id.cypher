// Unique, namespaced content-hash id for every Episode node (MERGE relies on it).
CREATE CONSTRAINT episode_id IF NOT EXISTS FOR (n:Episode) REQUIRE n.id IS UNIQUE
