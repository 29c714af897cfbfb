// Every write transaction bumps its namespace's change marker, in the same transaction, so every
// process sees at its next query that the namespace changed. Parameters: $namespace, $id (the marker's id), $at.
MERGE (m:ChangeMarker {id: $id})
ON CREATE SET m.namespace = $namespace, m.version = 0
SET m.version = m.version + 1, m.changed_at = $at
