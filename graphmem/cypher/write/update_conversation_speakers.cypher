// A live add brought new speakers to a conversation. Parameters: $namespace, $id, $speakers.
MATCH (c:Conversation {id: $id})
WHERE c.namespace = $namespace
SET c.speakers = $speakers
