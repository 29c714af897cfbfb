// Dump: how many NamespaceSettings nodes the whole store holds, every namespace (sizes the id windows export reads in).
MATCH (n:NamespaceSettings)
RETURN count(n) AS count
