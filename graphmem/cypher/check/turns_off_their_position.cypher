// Integrity: turns whose seq is not their session number x 1,000,000 + index (the order every read follows),
// or whose index is negative. Parameters: $namespace.
MATCH (t:Turn)
WHERE t.namespace = $namespace AND (t.index < 0 OR t.seq <> t.session_number * 1000000 + t.index)
RETURN t.id AS id
