// The namespace's change marker with its log of recent write transactions (read only when the
// version says another writer committed). Parameters: $namespace, $id.
MATCH (m:ChangeMarker {id: $id})
WHERE m.namespace = $namespace
RETURN m.version AS version, m.log AS log
