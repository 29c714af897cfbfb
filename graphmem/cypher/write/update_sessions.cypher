// Set properties of existing Sessions (embedding, running sum scale, turn count, preview).
// $rows: [{id, props}]. Parameters: $namespace, $rows.
UNWIND $rows AS row
MATCH (s:Session {id: row.id})
WHERE s.namespace = $namespace
SET s += row.props
