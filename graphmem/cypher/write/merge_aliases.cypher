// Reversible entity merge: (alias:Entity)-[:ALIAS_OF {reason, score}]->(canonical:Entity). $rows: [{alias_id, canonical_id, reason, score}]
UNWIND $rows AS row
MATCH (a:Entity {id: row.alias_id})
MATCH (c:Entity {id: row.canonical_id})
MERGE (a)-[r:ALIAS_OF]->(c)
ON CREATE SET r.reason = row.reason, r.score = row.score
