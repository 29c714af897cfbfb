// Every stored property of the Conversation nodes with the given ids (for the interactive graph's property panel).
UNWIND $ids AS id
MATCH (n:Conversation {id: id})
WHERE n.namespace = $namespace
RETURN n.id AS id, properties(n) AS properties
