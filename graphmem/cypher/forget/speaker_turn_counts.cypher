// Number of Turns per speaker in a namespace. Parameters: $namespace.
MATCH (t:Turn)
WHERE t.namespace = $namespace
RETURN t.speaker AS speaker, count(*) AS turns
