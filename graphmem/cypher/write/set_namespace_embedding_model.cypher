// Store the identity of the embedding model a namespace's vectors come from (graphmem.model_identity): the model
// setting and its vector of a fixed probe sentence. $rows: [{id, embedding_model, embedding_probe, at}].
// Parameters: $namespace, $rows.
UNWIND $rows AS row
MERGE (s:NamespaceSettings {id: row.id})
ON CREATE SET s.namespace = $namespace
SET s.embedding_model = row.embedding_model, s.embedding_probe = row.embedding_probe, s.updated_at = row.at
