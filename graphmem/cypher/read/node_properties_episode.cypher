// Every stored property of the Episode nodes with the given ids (for the interactive graph's property panel).
UNWIND $ids AS id
MATCH (n:Episode {id: id})
WHERE n.namespace = $namespace
RETURN n.id AS id, properties(n) AS properties
