// Set properties of existing Episodes (an open episode that grew, or one recomputed after a correction).
// $rows: [{id, props}]. Parameters: $namespace, $rows.
UNWIND $rows AS row
MATCH (e:Episode {id: row.id})
WHERE e.namespace = $namespace
SET e += row.props
