// Dump: how many Event nodes the whole store holds, every namespace (sizes the id windows export reads in).
MATCH (n:Event)
RETURN count(n) AS count
