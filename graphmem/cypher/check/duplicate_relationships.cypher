// Integrity: a relationship written twice: two of one type (and INVOLVES role) between the same two nodes. Parameters: $namespace.
// Each node's outgoing edges against each other (two MATCH clauses, so both expand from the start
// node, never from a Topic's thousands of members); no count per (start, type, role, end), which
// overran ArcadeDB's query heap budget at 100k turns.
MATCH (a)-[r]->(b)
WHERE a.namespace = $namespace
MATCH (a)-[s]->(c)
WHERE c = b AND s <> r AND type(s) = type(r) AND coalesce(s.role, '') = coalesce(r.role, '')
RETURN DISTINCT a.id + ' -[' + type(r) + (CASE coalesce(r.role, '') WHEN '' THEN '' ELSE ' ' + r.role END) + ']-> ' + b.id AS id
