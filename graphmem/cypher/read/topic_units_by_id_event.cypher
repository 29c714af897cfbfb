// Embedding and text of the given Events (refitting event topics; the ones not already in memory). $ids: [id]
UNWIND $ids AS id
MATCH (u:Event {id: id})
WHERE u.namespace = $namespace AND u.embedding IS NOT NULL
RETURN u.id AS id, u.embedding AS embedding, u.text AS text
