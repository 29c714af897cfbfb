// The messages of some sessions (before the position $before_seq when it is not null), as
// Memory.messages gives them. Parameters: $namespace, $ids (Session node ids), $before_seq (a
// Turn.seq or null).
UNWIND $ids AS id
MATCH (s:Session {id: id})<-[:IN]-(t:Turn)
WHERE t.namespace = $namespace AND ($before_seq IS NULL OR t.seq < $before_seq)
RETURN t.id AS turn_id, t.session_key AS session, t.session_number AS session_number, t.index AS index,
       t.speaker AS speaker, t.text AS text, t.caption AS caption, t.timestamp AS timestamp, s.id AS session_id,
       t.source_id AS source_id, coalesce(t.version, 0) AS version, t.seq AS seq,
       [k IN keys(t) WHERE k STARTS WITH 'meta_' | [k, t[k]]] AS meta
