// Dump: how many TurnVersion nodes the whole store holds, every namespace (sizes the id windows export reads in).
MATCH (n:TurnVersion)
RETURN count(n) AS count
