// Integrity: NEXT edges between episodes that disagree with where the episodes start (the next one
// does not start later, or belongs to another conversation); the episode the edge leaves is
// reported. Parameters: $namespace.
MATCH (a:Episode)-[:NEXT]->(b:Episode)
WHERE a.namespace = $namespace
  AND (b.start_seq <= a.start_seq OR b.conversation_id <> a.conversation_id)
RETURN DISTINCT a.id AS id
