// Every stored property of the Event nodes with the given ids (for the interactive graph's property panel).
UNWIND $ids AS id
MATCH (n:Event {id: id})
WHERE n.namespace = $namespace
RETURN n.id AS id, properties(n) AS properties
