// Re-embedding on import: set Session embeddings (normalised means of their turns). $rows: [{id, embedding}]
UNWIND $rows AS row
MATCH (s:Session {id: row.id})
SET s.embedding = row.embedding
