// Turns are ordered per conversation (seq); appending a session looks up the previous turn.
CREATE INDEX turn_conversation IF NOT EXISTS FOR (n:Turn) ON (n.conversation_id)
