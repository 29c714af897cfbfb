// Every namespace that holds a node, with its node count per label (a full scan: for listing namespaces, not the hot path).
MATCH (n)
WHERE n.namespace IS NOT NULL
RETURN n.namespace AS namespace, labels(n)[0] AS label, count(n) AS count
ORDER BY namespace, label
