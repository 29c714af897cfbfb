// Integrity: a relationship written twice: two of one type (and INVOLVES role) between the same two nodes. Parameters: $namespace.
// Each node's outgoing edges grouped in a subquery of their own (a count per (start, type, role, end)
// over the whole namespace overran ArcadeDB's query heap budget at 100,000 turns; every outgoing edge
// matched against every other of its start node took 10-18 s there, this 5-8 s).
MATCH (a)
WHERE a.namespace = $namespace
CALL {
  WITH a
  MATCH (a)-[r]->(b)
  WITH b, type(r) AS kind, coalesce(r.role, '') AS role, count(*) AS copies
  WHERE copies > 1
  RETURN b, kind, role
}
RETURN a.id + ' -[' + kind + (CASE role WHEN '' THEN '' ELSE ' ' + role END) + ']-> ' + b.id AS id
