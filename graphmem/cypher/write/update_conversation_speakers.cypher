// A live add brought new speakers to a conversation. $rows: [{id, speakers}]. Parameters: $namespace, $rows.
UNWIND $rows AS row
MATCH (c:Conversation {id: row.id})
WHERE c.namespace = $namespace
SET c.speakers = row.speakers
