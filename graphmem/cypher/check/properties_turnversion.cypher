// Integrity: the documented properties of every TurnVersion of a namespace (graphmem.schema), whose types
// graphmem check compares with the schema. Parameters: $namespace.
MATCH (n:TurnVersion)
WHERE n.namespace = $namespace
RETURN n.id AS id, n.turn_id AS turn_id, n.version AS version, n.speaker AS speaker, n.text AS text, n.caption AS caption, n.timestamp AS timestamp, n.replaced_at AS replaced_at
