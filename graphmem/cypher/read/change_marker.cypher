// The namespace's change marker: how many write transactions it has seen. Parameters: $namespace, $id.
MATCH (m:ChangeMarker {id: $id})
WHERE m.namespace = $namespace
RETURN m.version AS version
