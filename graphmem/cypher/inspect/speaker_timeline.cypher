// What did this speaker tell us, in order? Their events with when they said it and when it happened.
// Parameters: $namespace, $speaker (case-insensitive), $limit (default 50).
MATCH (ev:Event)-[:FROM]->(t:Turn)
WHERE ev.namespace = $namespace AND toLower(t.speaker) = toLower($speaker)
RETURN t.conversation_id AS conversation, t.session_number AS session, t.timestamp AS said_at,
       ev.time_start AS happened_from, ev.time_end AS happened_to, ev.time_expression AS when_text,
       t.source_id AS source_id, ev.text AS event
ORDER BY t.conversation_id, t.seq, ev.index
LIMIT $limit
