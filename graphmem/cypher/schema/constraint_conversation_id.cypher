// Unique, namespaced content-hash id for every Conversation node (MERGE relies on it).
CREATE CONSTRAINT conversation_id IF NOT EXISTS FOR (n:Conversation) REQUIRE n.id IS UNIQUE
