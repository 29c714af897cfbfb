// A turn's current text (the last entry of its history). Parameters: $namespace, $id.
MATCH (t:Turn {id: $id})
WHERE t.namespace = $namespace
RETURN coalesce(t.version, 0) AS version, t.speaker AS speaker, t.text AS text, t.caption AS caption,
       t.timestamp AS timestamp, t.updated_at AS replaced_at,
       [k IN keys(t) WHERE k STARTS WITH 'meta_' | [k, t[k]]] AS meta
