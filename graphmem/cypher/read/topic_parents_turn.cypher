// The parent unit of each of the namespace's Turns: its episode (linking the topic hierarchy).
// Parameters: $namespace.
MATCH (u:Turn)-[:PART_OF]->(e:Episode)
WHERE u.namespace = $namespace
RETURN u.id AS id, e.id AS parent
