// Units a batch ingest assigned to a granularity's stored topics since their fit, counted on the
// Topic that carries the model (see ClusteringStage._refit_due): keep 1 adds n to the count,
// keep 0 starts it again at n (a refit). Parameters: $namespace, $rows: [{id, keep, n}].
UNWIND $rows AS row
MATCH (t:Topic {id: row.id})
WHERE t.namespace = $namespace
SET t.assigned = coalesce(t.assigned, 0) * row.keep + row.n
