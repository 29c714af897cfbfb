// Re-embedding on import: the embeddings of the member turns of the Episodes in $ids (an episode's vector is their mean).
// Parameters: $namespace, $ids.
UNWIND $ids AS id
MATCH (e:Episode {id: id})<-[:PART_OF]-(t:Turn)
WHERE e.namespace = $namespace AND t.embedding IS NOT NULL
RETURN e.id AS owner, t.embedding AS embedding
