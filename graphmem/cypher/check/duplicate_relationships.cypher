// Integrity: a relationship written twice: two of one type (and INVOLVES role) between the same two nodes. Parameters: $namespace.
MATCH (a)-[r]->(b)
WHERE a.namespace = $namespace
WITH a.id AS src, type(r) AS kind, coalesce(r.role, '') AS role, b.id AS dst, count(*) AS copies
WHERE copies > 1
RETURN src + ' -[' + kind + (CASE role WHEN '' THEN '' ELSE ' ' + role END) + ']-> ' + dst AS id
