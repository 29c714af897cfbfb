// Unique, namespaced content-hash id for every Event node (MERGE relies on it).
CREATE CONSTRAINT event_id IF NOT EXISTS FOR (n:Event) REQUIRE n.id IS UNIQUE
