// Topic-placement ledger: whether a write that keeps no ledger (an import, a user's Cypher write)
// touched the namespace since the last placing transaction that looked through all its units
// (null: no placing transaction has looked through them all yet), and the marker's version.
// Parameters: $namespace, $id (the marker's id).
MATCH (m:ChangeMarker {id: $id})
WHERE m.namespace = $namespace
RETURN m.version AS version, m.placing_unknown AS unknown
