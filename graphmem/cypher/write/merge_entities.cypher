// Create Entity nodes; a known entity only gets a more specific label. $rows: [{id, props: {namespace, key, name, label}}]
UNWIND $rows AS row
MERGE (n:Entity {id: row.id})
ON CREATE SET n += row.props
ON MATCH SET n.label = row.props.label
