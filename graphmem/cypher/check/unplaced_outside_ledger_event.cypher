// Integrity: Events without a topic in a session the topic-placement ledger holds settled (count 0)
// while the ledger is whole: no batch ingest would look for them there (a write that took a unit
// out of its topics, or wrote one, without counting its session). Parameters: $namespace.
MATCH (m:ChangeMarker)
WHERE m.namespace = $namespace AND m.placing_unknown = false
MATCH (s:Session)
WHERE s.namespace = $namespace AND s.placing = 0
MATCH (u:Event)-[:FROM]->(:Turn)-[:IN]->(s)
WHERE u.namespace = $namespace AND NOT EXISTS { MATCH (u)-[:IN_TOPIC]->(:Topic) }
RETURN DISTINCT u.id AS id
