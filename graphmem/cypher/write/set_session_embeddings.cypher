// Session embedding = normalised mean of its turns' embeddings (derived; recomputed on ingest).
// $rows: [{id, embedding}]
UNWIND $rows AS row
MATCH (s:Session {id: row.id})
SET s.embedding = row.embedding
