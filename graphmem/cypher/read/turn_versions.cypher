// The earlier texts of a corrected turn, oldest first. Parameters: $namespace, $id.
MATCH (v:TurnVersion)-[:VERSION_OF]->(t:Turn {id: $id})
WHERE t.namespace = $namespace
RETURN v.version AS version, v.speaker AS speaker, v.text AS text, v.caption AS caption,
       v.timestamp AS timestamp, v.replaced_at AS replaced_at,
       [k IN keys(v) WHERE k STARTS WITH 'meta_' | [k, v[k]]] AS meta
ORDER BY v.version
