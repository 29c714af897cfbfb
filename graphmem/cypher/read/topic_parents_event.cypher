// The parent unit of each of the namespace's Events: its turn (linking the topic hierarchy).
// Parameters: $namespace.
MATCH (u:Event)
WHERE u.namespace = $namespace
RETURN u.id AS id, u.turn_id AS parent
