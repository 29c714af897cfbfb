// Embedding, text, parent (its episode) and session number of the given Turns
// (topics: units not already in memory). $ids: [id]
UNWIND $ids AS id
MATCH (u:Turn {id: id})
WHERE u.namespace = $namespace AND u.embedding IS NOT NULL
OPTIONAL MATCH (u)-[:PART_OF]->(ep:Episode)
RETURN u.id AS id, u.embedding AS embedding, u.text AS text, ep.id AS parent, u.session_number AS session
