// Forget: an Episode that keeps some of its turns is recomputed from them (text, embedding, span).
// $rows: [{id, props: {text, embedding, start_seq, end_seq, turn_count, started_at, ended_at}}]. Parameters: $namespace, $rows.
UNWIND $rows AS row
MATCH (e:Episode {id: row.id})
WHERE e.namespace = $namespace
SET e += row.props
