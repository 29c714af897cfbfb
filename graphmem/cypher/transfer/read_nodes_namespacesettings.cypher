// Dump: one page of the NamespaceSettings nodes of a namespace with ids in ($after, $high], ordered by id, with every
// property. The id range comes first, and alone, so that the unique index on id serves it (a namespace filter
// first would scan every NamespaceSettings of the namespace for each page).
// Parameters: $namespace, $after (the window's start or the previous page's last id), $high, $limit.
MATCH (n:NamespaceSettings)
WHERE n.id > $after AND n.id <= $high
WITH n
WHERE n.namespace = $namespace
RETURN n.id AS id, properties(n) AS props
ORDER BY n.id
LIMIT $limit
