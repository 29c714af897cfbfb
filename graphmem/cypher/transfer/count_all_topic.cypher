// Dump: how many Topic nodes the whole store holds, every namespace (sizes the id windows export reads in).
MATCH (n:Topic)
RETURN count(n) AS count
