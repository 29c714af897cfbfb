// Dump: how many Entity nodes the whole store holds, every namespace (sizes the id windows export reads in).
MATCH (n:Entity)
RETURN count(n) AS count
