// Dump: how many Episode nodes the whole store holds, every namespace (sizes the id windows export reads in).
MATCH (n:Episode)
RETURN count(n) AS count
