// A turn's current text (the last entry of its history). Parameters: $namespace, $id.
// (The namespace is checked after the id lookup: written in the MATCH's WHERE, ArcadeDB's planner
// scans every Turn of the namespace instead of the unique id index, 0.17 s at 20,000 turns.)
MATCH (t:Turn {id: $id})
WITH t WHERE t.namespace = $namespace
RETURN coalesce(t.version, 0) AS version, t.speaker AS speaker, t.text AS text, t.caption AS caption,
       t.timestamp AS timestamp, t.updated_at AS replaced_at,
       [k IN keys(t) WHERE k STARTS WITH 'meta_' | [k, t[k]]] AS meta
