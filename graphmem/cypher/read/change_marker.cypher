// The namespace's change marker: how many write transactions it has seen, and its epoch (null on a
// marker written before epochs). Parameters: $namespace, $id.
MATCH (m:ChangeMarker {id: $id})
WHERE m.namespace = $namespace
RETURN m.version AS version, m.epoch AS epoch
