// Embedding and text of the given Turns (refitting turn topics; the ones not already in memory). $ids: [id]
UNWIND $ids AS id
MATCH (u:Turn {id: id})
WHERE u.namespace = $namespace AND u.embedding IS NOT NULL
RETURN u.id AS id, u.embedding AS embedding, u.text AS text
