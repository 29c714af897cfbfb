// Integrity: the documented properties of every ChangeMarker of a namespace (graphmem.schema), whose types
// graphmem check compares with the schema. Parameters: $namespace.
MATCH (n:ChangeMarker)
WHERE n.namespace = $namespace
RETURN n.id AS id, n.version AS version, n.changed_at AS changed_at, n.log AS log, n.epoch AS epoch, n.placing_unknown AS placing_unknown
