// Every speaker name listed on the Conversations of a namespace. Parameters: $namespace.
MATCH (c:Conversation)
WHERE c.namespace = $namespace AND c.speakers IS NOT NULL
UNWIND c.speakers AS speaker
RETURN DISTINCT speaker
