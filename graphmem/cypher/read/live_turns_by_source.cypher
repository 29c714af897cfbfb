// Stored turns of a conversation carrying the message ids in $source_ids (corrections).
// Parameters: $namespace, $conversation_id (the key), $source_ids.
UNWIND $source_ids AS source_id
MATCH (t:Turn {source_id: source_id})
WHERE t.namespace = $namespace AND t.conversation_id = $conversation_id
OPTIONAL MATCH (t)-[:IN]->(s:Session)
OPTIONAL MATCH (t)-[:PART_OF]->(e:Episode)
RETURN t.id AS id, t.source_id AS source_id, t.session_key AS session_key, t.session_number AS session_number,
       t.index AS index, t.seq AS seq, t.speaker AS speaker, t.text AS text, t.caption AS caption,
       t.timestamp AS timestamp, coalesce(t.version, 0) AS version, s.id AS session_id, s.started_at AS started_at,
       e.id AS episode,
       [k IN keys(t) WHERE k STARTS WITH 'meta_' | [k, t[k]]] AS meta
