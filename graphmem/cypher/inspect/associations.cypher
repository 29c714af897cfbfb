// Which memories are associated with this one? ASSOCIATED links in both directions, strongest first.
// Parameters: $namespace, $id (node id of a turn, episode or session).
// One branch per label, each finding the node through its label's id index (an unlabelled
// {id: $id} read every node of the store: 0.56-0.87 s at 100,000 turns, 6-12 ms this way).
CALL {
  MATCH (m:Turn {id: $id})-[r:ASSOCIATED]-(other)
  WHERE m.namespace = $namespace
  RETURN r, other
  UNION ALL
  MATCH (m:Episode {id: $id})-[r:ASSOCIATED]-(other)
  WHERE m.namespace = $namespace
  RETURN r, other
  UNION ALL
  MATCH (m:Session {id: $id})-[r:ASSOCIATED]-(other)
  WHERE m.namespace = $namespace
  RETURN r, other
}
RETURN labels(other)[0] AS unit, other.id AS id, coalesce(other.source_id, '') AS source_id,
       other.session_number AS session, r.w AS weight, r.method AS method, other.text AS text
ORDER BY weight DESC
