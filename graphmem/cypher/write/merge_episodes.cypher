// Create Episode nodes (text span, time span, embedding). $rows: [{id, props}]
UNWIND $rows AS row
MERGE (e:Episode {id: row.id})
ON CREATE SET e += row.props
