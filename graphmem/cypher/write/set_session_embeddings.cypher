// Session embedding = normalised mean of its turns' embeddings (derived; recomputed on ingest), with the
// turn count and the mean's length before normalising (live adds keep the mean running from them).
// $rows: [{id, embedding, turn_count, embedding_scale}]
UNWIND $rows AS row
MATCH (s:Session {id: row.id})
SET s.embedding = row.embedding, s.turn_count = row.turn_count, s.embedding_scale = row.embedding_scale
