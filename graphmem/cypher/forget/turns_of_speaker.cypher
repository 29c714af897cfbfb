// Up to $limit Turns said by $speaker (is a forgotten turn's speaker still one?). Parameters:
// $namespace, $speaker, $limit.
MATCH (t:Turn)
WHERE t.namespace = $namespace AND t.speaker = $speaker
RETURN t.id AS id
LIMIT $limit
