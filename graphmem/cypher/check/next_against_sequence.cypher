// Integrity: NEXT edges whose turns disagree with their sequence (the next turn does not come later, or
// belongs to another conversation); the turn the edge leaves is reported. Parameters: $namespace.
MATCH (a:Turn)-[:NEXT]->(b:Turn)
WHERE a.namespace = $namespace
  AND (b.seq <= a.seq OR b.conversation_id <> a.conversation_id)
RETURN DISTINCT a.id AS id
