// Where each stored turn of a conversation sits and what it says (a batch re-ingest finds changed
// messages by session and source id, or by position). Parameters: $namespace, $conversation_id (the key).
MATCH (t:Turn {conversation_id: $conversation_id})
WHERE t.namespace = $namespace
OPTIONAL MATCH (t)-[:IN]->(s:Session)
RETURN t.id AS id, t.session_key AS session_key, t.session_number AS session_number, t.index AS index, t.seq AS seq,
       t.source_id AS source_id, t.speaker AS speaker, t.text AS text, t.caption AS caption, t.timestamp AS timestamp,
       coalesce(t.version, 0) AS version, s.id AS session_id, s.started_at AS started_at,
       [k IN keys(t) WHERE k STARTS WITH 'meta_' | [k, t[k]]] AS meta
