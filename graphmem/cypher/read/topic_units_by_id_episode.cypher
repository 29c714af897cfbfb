// Embedding, text, parent (its session (named from conversation_id and session_key)) and session number of the given Episodes
// (topics: units not already in memory). $ids: [id]
UNWIND $ids AS id
MATCH (u:Episode {id: id})
WHERE u.namespace = $namespace AND u.embedding IS NOT NULL
RETURN u.id AS id, u.embedding AS embedding, u.text AS text, u.conversation_id AS conversation_id, u.session_key AS session_key, u.session_number AS session
