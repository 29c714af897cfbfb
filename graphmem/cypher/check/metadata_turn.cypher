// Integrity: the metadata (meta_* properties) of every Turn of a namespace that has any, as [key, value]
// pairs; graphmem check flags a value that is not text, a finite number or a boolean. Parameters: $namespace.
MATCH (n:Turn)
WHERE n.namespace = $namespace
WITH n, [k IN keys(n) WHERE k STARTS WITH 'meta_' | [k, n[k]]] AS meta
WHERE size(meta) > 0
RETURN n.id AS id, meta
