// Forget: a Session that keeps some of its turns is recomputed from them (embedding, preview, and its start
// where it was a forgotten first turn's time).
// $rows: [{id, props: {embedding, preview}}]. Parameters: $namespace, $rows.
UNWIND $rows AS row
MATCH (s:Session {id: row.id})
WHERE s.namespace = $namespace
SET s += row.props
