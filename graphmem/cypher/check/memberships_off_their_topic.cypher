// Integrity: units in a topic of another granularity, or with a membership probability outside [0, 1].
// Parameters: $namespace.
CALL {
  MATCH (u:Turn)-[r:IN_TOPIC]->(t:Topic)
  WHERE u.namespace = $namespace AND (t.granularity <> 'turn' OR r.p < 0.0 OR r.p > 1.000001)
  RETURN u.id AS id
  UNION ALL
  MATCH (u:Event)-[r:IN_TOPIC]->(t:Topic)
  WHERE u.namespace = $namespace AND (t.granularity <> 'event' OR r.p < 0.0 OR r.p > 1.000001)
  RETURN u.id AS id
  UNION ALL
  MATCH (u:Episode)-[r:IN_TOPIC]->(t:Topic)
  WHERE u.namespace = $namespace AND (t.granularity <> 'episode' OR r.p < 0.0 OR r.p > 1.000001)
  RETURN u.id AS id
  UNION ALL
  MATCH (u:Session)-[r:IN_TOPIC]->(t:Topic)
  WHERE u.namespace = $namespace AND (t.granularity <> 'session' OR r.p < 0.0 OR r.p > 1.000001)
  RETURN u.id AS id
}
RETURN DISTINCT id
