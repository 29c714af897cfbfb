// Which of the Turn ids in $ids are already stored (re-ingest skips them).
UNWIND $ids AS id
MATCH (t:Turn {id: id})
WHERE t.namespace = $namespace
RETURN t.id AS id
