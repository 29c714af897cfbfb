// The Topic nodes of one granularity with the fitted topic model stored on the first of them (state: JSON,
// else null), and the units batch ingests assigned to them since that fit (assigned, on the same node).
// Parameters: $namespace, $granularity.
MATCH (t:Topic)
WHERE t.namespace = $namespace AND t.granularity = $granularity
RETURN t.id AS id, t.index AS index, t.model_state AS state, t.assigned AS assigned
