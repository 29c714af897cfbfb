// Dump: how many Session nodes the whole store holds, every namespace (sizes the id windows export reads in).
MATCH (n:Session)
RETURN count(n) AS count
