// Event details for search hits (provenance beyond the node comes from the retrieval projection), with
// the caption and metadata of the message (turn) it comes from.
UNWIND $ids AS id
MATCH (v:Event {id: id})
WHERE v.namespace = $namespace
OPTIONAL MATCH (v)-[:FROM]->(t:Turn)
RETURN v.id AS id, v.text AS text, v.speaker AS speaker, v.timestamp AS timestamp,
       v.conversation_id AS conversation_id, v.session_number AS session_number, v.turn_id AS turn_id,
       v.time_start AS time_start, v.time_end AS time_end, t.caption AS caption,
       CASE WHEN t IS NULL THEN [] ELSE [k IN keys(t) WHERE k STARTS WITH 'meta_' | [k, t[k]]] END AS meta
