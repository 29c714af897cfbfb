// Every namespace that holds a node (a full scan: for integrity checks, not the hot path).
MATCH (n)
WHERE n.namespace IS NOT NULL
RETURN DISTINCT n.namespace AS namespace
ORDER BY namespace
