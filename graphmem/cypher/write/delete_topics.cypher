// Remove replaced Topic nodes with their IN_TOPIC and WITHIN edges (a refit replaces them atomically). $rows: [{id}]
UNWIND $rows AS row
MATCH (t:Topic {id: row.id})
DETACH DELETE t
