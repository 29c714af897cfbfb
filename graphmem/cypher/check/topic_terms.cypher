// The terms of one granularity's topics (every term comes from a text a member holds: one that none
// gives any more is a forgotten or corrected word a crash left there; a label is its first terms).
// Parameters: $namespace, $granularity.
MATCH (t:Topic)
WHERE t.namespace = $namespace AND t.granularity = $granularity
RETURN t.id AS id, t.terms AS terms
