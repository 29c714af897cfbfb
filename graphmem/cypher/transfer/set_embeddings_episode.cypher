// Re-embedding on import: set Episode embeddings (normalised means of their turns). $rows: [{id, embedding}]
UNWIND $rows AS row
MATCH (e:Episode {id: row.id})
SET e.embedding = row.embedding
