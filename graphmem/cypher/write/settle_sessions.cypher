// Topic-placement ledger: the placing transaction placed every unit of these sessions without a
// topic; each session's count goes back to 0 unless a write counted since it was read
// (`seen`: the count then, -1 when the session had none).
// $rows: [{id, seen}]. Parameters: $namespace, $rows.
UNWIND $rows AS row
MATCH (s:Session {id: row.id})
WHERE s.namespace = $namespace AND coalesce(s.placing, -1) = row.seen
SET s.placing = 0
