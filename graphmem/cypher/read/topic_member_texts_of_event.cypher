// The Event members of the Topics $topics (ids), with the text topics are labelled from
// (after a forget: do the labels' words still occur in what the topics hold?).
// Parameters: $namespace, $topics.
UNWIND $topics AS topic_id
MATCH (t:Topic {id: topic_id})<-[:IN_TOPIC]-(u:Event)
WHERE t.namespace = $namespace
RETURN t.id AS topic, u.text AS text
