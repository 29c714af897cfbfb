// The earlier texts of a corrected turn, oldest first. Parameters: $namespace, $id.
// (The namespace is checked after the id lookup: written in the MATCH's WHERE, ArcadeDB's planner
// scans every Turn of the namespace instead of the unique id index, 0.1 s at 20,000 turns.)
MATCH (t:Turn {id: $id})
WITH t WHERE t.namespace = $namespace
MATCH (v:TurnVersion)-[:VERSION_OF]->(t)
RETURN v.version AS version, v.speaker AS speaker, v.text AS text, v.caption AS caption,
       v.timestamp AS timestamp, v.replaced_at AS replaced_at,
       [k IN keys(v) WHERE k STARTS WITH 'meta_' | [k, v[k]]] AS meta
ORDER BY v.version
