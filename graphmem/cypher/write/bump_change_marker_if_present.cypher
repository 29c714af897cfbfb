// A write graphmem cannot follow (user Cypher run with --write) bumps its namespace's change
// marker in the same transaction when the namespace has one (every namespace graphmem wrote
// has), logging that it cannot say what changed, so every process rebuilds that namespace's
// caches, and that it kept no topic-placement ledger (the next batch ingest looks through all the
// namespace's units for ones without a topic); a marker the write itself deleted is not created again.
// $rows: [{id (the marker's id), at, entry (JSON text: writer, changed unit ids, full), epoch}].
// Parameters: $namespace (unused: the id names the namespace), $rows.
UNWIND $rows AS row
MATCH (m:ChangeMarker {id: row.id})
SET m.version = m.version + 1, m.epoch = coalesce(m.epoch, row.epoch), m.changed_at = row.at, m.log = (coalesce(m.log, []) + [row.entry])[-32..],
    m.placing_unknown = true
