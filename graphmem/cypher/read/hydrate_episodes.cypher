// Episode details for search hits (provenance beyond the node comes from the retrieval projection).
UNWIND $ids AS id
MATCH (e:Episode {id: id})
WHERE e.namespace = $namespace
RETURN e.id AS id, e.text AS text, e.started_at AS timestamp, e.conversation_id AS conversation_id,
       e.session_key AS session_key, e.session_number AS session_number
