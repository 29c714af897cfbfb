// A stored turn by its id, as read/live_turns_by_source gives it, with its conversation (Memory.correct).
// Parameters: $namespace, $id.
MATCH (t:Turn {id: $id})
WITH t WHERE t.namespace = $namespace
OPTIONAL MATCH (t)-[:IN]->(s:Session)
OPTIONAL MATCH (t)-[:PART_OF]->(e:Episode)
RETURN t.id AS id, t.conversation_id AS conversation_id, t.source_id AS source_id, t.session_key AS session_key,
       t.session_number AS session_number, t.index AS index, t.seq AS seq, t.speaker AS speaker, t.text AS text,
       t.caption AS caption, t.timestamp AS timestamp, coalesce(t.version, 0) AS version, s.id AS session_id,
       s.started_at AS started_at, e.id AS episode,
       [k IN keys(t) WHERE k STARTS WITH 'meta_' | [k, t[k]]] AS meta
