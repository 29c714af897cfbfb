// Integrity: INVOLVES edges whose role is none graphmem writes (speaker, mention, addressee).
// Parameters: $namespace.
MATCH (e:Event)-[r:INVOLVES]->(n:Entity)
WHERE e.namespace = $namespace AND r.role IS NOT NULL AND NOT r.role IN ['speaker', 'mention', 'addressee']
RETURN DISTINCT e.id AS id
