// Ids of a session's turns and episodes (never association candidates of a unit of the same session).
// Parameters: $namespace, $session_id.
MATCH (s:Session {id: $session_id})<-[:IN]-(t:Turn)
WHERE t.namespace = $namespace
OPTIONAL MATCH (t)-[:PART_OF]->(e:Episode)
RETURN t.id AS turn, e.id AS episode
