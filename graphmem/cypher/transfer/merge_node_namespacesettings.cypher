// Import: merge NamespaceSettings nodes on id and set every property of the dump (twice changes nothing).
// $rows: [{id, props}]
UNWIND $rows AS row
MERGE (n:NamespaceSettings {id: row.id})
SET n += row.props
