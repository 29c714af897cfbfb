// Which turns were stored without events because deriving them failed? No rows in a healthy store.
// Each row names the turn, where it is, and the error logged at ingest (extraction_error).
// Parameters: $namespace (the tenant), $limit (most rows, default 100).
MATCH (t:Turn)
WHERE t.namespace = $namespace AND t.extraction_error IS NOT NULL
RETURN t.conversation_id AS conversation, t.session_key AS session, t.source_id AS source_id,
       t.id AS turn_id, t.extraction_error AS error, left(t.text, 120) AS text
ORDER BY conversation, t.seq
LIMIT $limit
