// Re-embedding on import: set Session embeddings (normalised means of their turns), with the count and the
// length of the mean before normalising that live adds keep their running mean from.
// $rows: [{id, embedding, turn_count, embedding_scale}]
UNWIND $rows AS row
MATCH (s:Session {id: row.id})
SET s.embedding = row.embedding, s.turn_count = row.turn_count, s.embedding_scale = row.embedding_scale
