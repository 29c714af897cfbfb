// Episodes are ordered per conversation (start_seq); an append looks up the episode before and after it.
CREATE INDEX episode_conversation IF NOT EXISTS FOR (n:Episode) ON (n.conversation_id)
