// Turn details for search hits, from the Turn nodes alone (the session comes from the
// retrieval projection: following IN here costs several milliseconds per query at 100k turns).
UNWIND $ids AS id
MATCH (t:Turn {id: id})
WHERE t.namespace = $namespace
RETURN t.id AS id, t.text AS text, t.speaker AS speaker, t.source_id AS source_id,
       t.timestamp AS timestamp, t.caption AS caption, t.conversation_id AS conversation_id,
       t.session_key AS session_key, t.session_number AS session_number,
       [k IN keys(t) WHERE k STARTS WITH 'meta_' | [k, t[k]]] AS meta
