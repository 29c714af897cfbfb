// Integrity: of the Sessions in $ids (those without a topic), the ones in a session the topic-placement
// ledger holds settled (count 0) while the ledger is whole: no batch ingest would look for them there
// (a write that took a unit out of its topics, or wrote one, without counting its session).
// Parameters: $namespace, $ids.
MATCH (m:ChangeMarker)
WHERE m.namespace = $namespace AND m.placing_unknown = false
UNWIND $ids AS unit_id
MATCH (s:Session {id: unit_id})
WHERE s.namespace = $namespace AND s.placing = 0
RETURN DISTINCT unit_id AS id
