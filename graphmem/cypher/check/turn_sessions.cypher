// Session of every turn of a namespace (a session's embedding is the mean of its turns').
MATCH (t:Turn)-[:IN]->(s:Session)
WHERE t.namespace = $namespace
RETURN t.id AS turn_id, s.id AS unit_id
