// Which memories are associated with this one? ASSOCIATED links in both directions, strongest first.
// Parameters: $namespace, $id (node id of a turn, episode or session).
MATCH (m {id: $id})-[r:ASSOCIATED]-(other)
WHERE m.namespace = $namespace
RETURN labels(other)[0] AS unit, other.id AS id, coalesce(other.source_id, '') AS source_id,
       other.session_number AS session, r.w AS weight, r.method AS method, other.text AS text
ORDER BY weight DESC
