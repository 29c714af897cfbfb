// Every speaker name of the Turns of a namespace. Parameters: $namespace.
MATCH (t:Turn)
WHERE t.namespace = $namespace
RETURN DISTINCT t.speaker AS speaker
