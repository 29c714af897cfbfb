// Unique, namespaced content-hash id for every Topic node (MERGE relies on it).
CREATE CONSTRAINT topic_id IF NOT EXISTS FOR (n:Topic) REQUIRE n.id IS UNIQUE
