// Integrity: turns outside the run of their episode (another conversation or session, or a position
// outside its start_seq..end_seq). Parameters: $namespace.
MATCH (t:Turn)-[:PART_OF]->(e:Episode)
WHERE t.namespace = $namespace
  AND (t.conversation_id <> e.conversation_id OR t.session_key <> e.session_key OR t.seq < e.start_seq OR t.seq > e.end_seq)
RETURN t.id AS id
