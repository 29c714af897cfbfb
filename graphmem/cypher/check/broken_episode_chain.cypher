// Integrity: episodes where the episode order breaks off inside a conversation: an episode before
// the conversation's last (by where each starts) with no NEXT out, or one after its first with no
// NEXT in. Each pattern starts at the bound episode: one starting at an unbound (:Episode) made ArcadeDB
// scan every episode of the store for each row. Parameters: $namespace.
MATCH (e:Episode)
WHERE e.namespace = $namespace
WITH e.conversation_id AS conversation, min(e.start_seq) AS first, max(e.start_seq) AS last, collect(e) AS episodes
UNWIND episodes AS e
WITH e, first, last
WHERE (e.start_seq < last AND NOT (e)-[:NEXT]->(:Episode)) OR (e.start_seq > first AND NOT (e)<-[:NEXT]-(:Episode))
RETURN e.id AS id
