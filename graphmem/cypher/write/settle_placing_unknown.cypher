// Topic-placement ledger: the placing transaction looked through every unit of the namespace (the
// first time, or after an import or a user's Cypher write, which keep no ledger), so from here on
// the sessions' counts name every session with units that may wait for a topic, unless another
// write committed since the marker was read (`version`).
// $rows: [{id (the marker's id), version}]. Parameters: $namespace, $rows.
UNWIND $rows AS row
MATCH (m:ChangeMarker {id: row.id})
WHERE m.namespace = $namespace AND m.version = row.version
SET m.placing_unknown = false
