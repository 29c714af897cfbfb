// Import: the namespace each of these TurnVersion ids belongs to in the store (a dump may not move a node
// of another namespace into its own). $ids: [id]
MATCH (n:TurnVersion)
WHERE n.id IN $ids
RETURN n.id AS id, n.namespace AS namespace
