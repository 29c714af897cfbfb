// Embedding, text, parent (its turn) and session number of the given Events
// (topics: units not already in memory). $ids: [id]
UNWIND $ids AS id
MATCH (u:Event {id: id})
WHERE u.namespace = $namespace AND u.embedding IS NOT NULL
RETURN u.id AS id, u.embedding AS embedding, u.text AS text, u.turn_id AS parent, u.session_number AS session
