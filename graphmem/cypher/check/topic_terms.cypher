// The label terms of one granularity's topics (every word of a label comes from a text a member
// holds: one that none gives any more is a forgotten or corrected word a crash left there).
// Parameters: $namespace, $granularity.
MATCH (t:Topic)
WHERE t.namespace = $namespace AND t.granularity = $granularity
RETURN t.id AS id, t.label AS label, t.terms AS terms
