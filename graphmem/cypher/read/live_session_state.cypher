// What a live add keeps of the session it appends to: its running mean (embedding, scale, turn count)
// and preview. Parameters: $namespace, $session_id.
MATCH (s:Session {id: $session_id})
WHERE s.namespace = $namespace
RETURN s.embedding AS embedding, s.embedding_scale AS embedding_scale, s.turn_count AS turn_count, s.preview AS preview
