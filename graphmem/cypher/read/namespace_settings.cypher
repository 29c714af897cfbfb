// The settings stored with a namespace: its time zone (Memory.set_timezone) and the identity of the embedding
// model its vectors come from (graphmem.model_identity), or no row when none was ever stored. Read by the node's
// id (the unique index), then the namespace checked. Parameters: $namespace, $id.
MATCH (s:NamespaceSettings {id: $id})
WITH s
WHERE s.namespace = $namespace
RETURN s.timezone AS timezone, s.updated_at AS updated_at, s.embedding_model AS embedding_model,
       s.embedding_probe AS embedding_probe
