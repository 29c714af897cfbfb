// Event details for search hits (provenance beyond the node comes from the retrieval projection).
UNWIND $ids AS id
MATCH (v:Event {id: id})
WHERE v.namespace = $namespace
RETURN v.id AS id, v.text AS text, v.speaker AS speaker, v.timestamp AS timestamp,
       v.conversation_id AS conversation_id, v.session_number AS session_number, v.turn_id AS turn_id,
       v.time_start AS time_start, v.time_end AS time_end
