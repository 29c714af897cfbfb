// Import: merge Episode nodes on id and set every property of the dump (twice changes nothing).
// $rows: [{id, props}]
UNWIND $rows AS row
MERGE (n:Episode {id: row.id})
SET n += row.props
