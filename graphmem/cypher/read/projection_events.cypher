// Every event of a namespace with the turn it comes from and its time, for the retrieval projection.
MATCH (v:Event)-[:FROM]->(t:Turn)
WHERE v.namespace = $namespace
RETURN v.id AS id, t.id AS turn_id, v.speaker AS speaker, v.text AS text, v.timestamp AS timestamp,
       v.time_start AS time_start, v.time_end AS time_end
