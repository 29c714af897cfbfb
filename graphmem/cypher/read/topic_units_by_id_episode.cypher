// Embedding and text of the given Episodes (refitting episode topics; the ones not already in memory). $ids: [id]
UNWIND $ids AS id
MATCH (u:Episode {id: id})
WHERE u.namespace = $namespace AND u.embedding IS NOT NULL
RETURN u.id AS id, u.embedding AS embedding, u.text AS text
