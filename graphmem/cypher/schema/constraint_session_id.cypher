// Unique, namespaced content-hash id for every Session node (MERGE relies on it).
CREATE CONSTRAINT session_id IF NOT EXISTS FOR (n:Session) REQUIRE n.id IS UNIQUE
