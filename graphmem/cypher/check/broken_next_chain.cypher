// Integrity: turns where the NEXT chain breaks off inside a conversation: a turn before the
// conversation's last with no NEXT out, or one after its first with no NEXT in. Each pattern starts at the
// bound turn: one starting at an unbound (:Turn) made ArcadeDB scan every turn of the store for each row
// (31 s for a 503-turn namespace of a 5,800-turn store; unfinished after 7 minutes at 100,000 turns).
// Parameters: $namespace.
MATCH (t:Turn)
WHERE t.namespace = $namespace
WITH t.conversation_id AS conversation, min(t.seq) AS first, max(t.seq) AS last, collect(t) AS turns
UNWIND turns AS t
WITH t, first, last
WHERE (t.seq < last AND NOT (t)-[:NEXT]->(:Turn)) OR (t.seq > first AND NOT (t)<-[:NEXT]-(:Turn))
RETURN t.id AS id
