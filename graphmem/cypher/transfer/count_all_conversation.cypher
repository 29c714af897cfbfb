// Dump: how many Conversation nodes the whole store holds, every namespace (sizes the id windows export reads in).
MATCH (n:Conversation)
RETURN count(n) AS count
