// Every write transaction bumps its namespace's change marker, in the same transaction, so every
// process sees at its next query that the namespace changed. $rows: [{id (the marker's id), at}].
// Parameters: $namespace, $rows.
UNWIND $rows AS row
MERGE (m:ChangeMarker {id: row.id})
ON CREATE SET m.namespace = $namespace, m.version = 0
SET m.version = m.version + 1, m.changed_at = row.at
