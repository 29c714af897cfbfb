// Which conversations does the memory hold? Each with sessions, messages, first and last session start, latest first.
// The session starts are stored UTC.
// Parameters: $namespace.
MATCH (s:Session)-[:OF]->(c:Conversation)
WHERE c.namespace = $namespace
OPTIONAL MATCH (t:Turn)-[:IN]->(s)
WITH c, s, count(t) AS turns
RETURN c.key AS conversation, count(s) AS sessions, sum(turns) AS messages,
       min(s.started_at) AS first_session, max(s.started_at) AS last_session
ORDER BY last_session DESC, conversation
