// Turns of the namespace stored without events because deriving them failed (see extraction_error).
MATCH (t:Turn)
WHERE t.namespace = $namespace AND t.extraction_error IS NOT NULL
RETURN t.id AS id
