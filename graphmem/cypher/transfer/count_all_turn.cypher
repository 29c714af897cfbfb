// Dump: how many Turn nodes the whole store holds, every namespace (sizes the id windows export reads in).
MATCH (n:Turn)
RETURN count(n) AS count
