// Embedding, text, parent (none) and session number of the given Sessions
// (topics: units not already in memory). $ids: [id]
UNWIND $ids AS id
MATCH (u:Session {id: id})
WHERE u.namespace = $namespace AND u.embedding IS NOT NULL
RETURN u.id AS id, u.embedding AS embedding, u.preview AS text, u.number AS session
