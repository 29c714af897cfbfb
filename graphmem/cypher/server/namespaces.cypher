// Every namespace holding a conversation (what the server lists; every stored turn belongs to one).
// No parameters.
MATCH (c:Conversation)
RETURN DISTINCT c.namespace AS namespace
ORDER BY namespace
