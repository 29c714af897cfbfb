// Node counts per label in a namespace (the change marker is bookkeeping, not memory: left out).
MATCH (n)
WHERE n.namespace = $namespace AND labels(n)[0] <> 'ChangeMarker'
RETURN labels(n)[0] AS label, count(*) AS count
