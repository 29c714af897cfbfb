// Dump: one page of Turn nodes of a namespace, by id (every property; the id is the cursor).
// Parameters: $namespace, $after (the last id of the previous page, "" for the first), $limit.
MATCH (n:Turn)
WHERE n.namespace = $namespace AND n.id > $after
RETURN n.id AS id, properties(n) AS props
ORDER BY n.id
LIMIT $limit
