// The settings stored with a namespace (Memory.set_timezone): its time zone, or no row when none was
// ever set. Read by the node's id (the unique index), then the namespace checked. Parameters: $namespace, $id.
MATCH (s:NamespaceSettings {id: $id})
WITH s
WHERE s.namespace = $namespace
RETURN s.timezone AS timezone, s.updated_at AS updated_at
