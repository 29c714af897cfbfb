// What names the parent unit of each of the namespace's Episodes: its session, by conversation
// and session key (linking the topic hierarchy). Parameters: $namespace.
MATCH (u:Episode)
WHERE u.namespace = $namespace
RETURN u.id AS id, u.conversation_id AS conversation_id, u.session_key AS session_key
