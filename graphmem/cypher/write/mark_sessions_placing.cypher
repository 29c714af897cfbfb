// Topic-placement ledger: a transaction that writes units of these sessions (turns, their events,
// episodes, the session itself) or takes a turn out of its topics counts one more write whose
// units may wait for a topic; a batch ingest's placing transaction reads the sessions with a
// count (or none yet) and looks for units without a topic in those sessions only.
// $rows: [{id}]. Parameters: $namespace, $rows.
UNWIND $rows AS row
MATCH (s:Session {id: row.id})
WHERE s.namespace = $namespace
SET s.placing = coalesce(s.placing, 0) + 1
