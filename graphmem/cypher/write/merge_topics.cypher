// Create Topic nodes (a GMM cluster at one granularity, with a readable label). $rows: [{id, props}]
UNWIND $rows AS row
MERGE (t:Topic {id: row.id})
ON CREATE SET t += row.props
