// Every write transaction bumps its namespace's change marker, in the same transaction, so every
// process sees at its next query that the namespace changed, and appends what it changed to the
// marker's short log (the last 32 transactions; entry i of m.log is version m.version - size + 1 + i).
// The marker's epoch (random, set once) tells a marker from one created again with the same id
// (a namespace dropped and written again, a database recreated), whose versions start over.
// A write that keeps no topic-placement ledger (an import) sets `placing_unknown` (`unknown`).
// $rows: [{id (the marker's id), at, entry (JSON text: writer, changed unit ids, full), epoch, unknown}].
// Parameters: $namespace, $rows.
UNWIND $rows AS row
MERGE (m:ChangeMarker {id: row.id})
ON CREATE SET m.namespace = $namespace, m.version = 0
SET m.version = m.version + 1, m.epoch = coalesce(m.epoch, row.epoch), m.changed_at = row.at, m.log = (coalesce(m.log, []) + [row.entry])[-32..],
    m.placing_unknown = CASE WHEN row.unknown THEN true ELSE m.placing_unknown END
