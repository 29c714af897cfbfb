// Node counts per label of a namespace, for the retrieval projection's manifest: every label
// graphmem writes except the change marker, labels without nodes left out. One branch per label,
// each matched through its namespace index (read/count_nodes, label-free and so complete for
// stats, check and export, scans every namespace of the store). tests/test_isolation.py checks
// the labels against the schema and the counts against read/count_nodes.
CALL {
  MATCH (n:Conversation {namespace: $namespace}) RETURN 'Conversation' AS label, count(n) AS count
  UNION ALL
  MATCH (n:Session {namespace: $namespace}) RETURN 'Session' AS label, count(n) AS count
  UNION ALL
  MATCH (n:Turn {namespace: $namespace}) RETURN 'Turn' AS label, count(n) AS count
  UNION ALL
  MATCH (n:TurnVersion {namespace: $namespace}) RETURN 'TurnVersion' AS label, count(n) AS count
  UNION ALL
  MATCH (n:Episode {namespace: $namespace}) RETURN 'Episode' AS label, count(n) AS count
  UNION ALL
  MATCH (n:Event {namespace: $namespace}) RETURN 'Event' AS label, count(n) AS count
  UNION ALL
  MATCH (n:Entity {namespace: $namespace}) RETURN 'Entity' AS label, count(n) AS count
  UNION ALL
  MATCH (n:Topic {namespace: $namespace}) RETURN 'Topic' AS label, count(n) AS count
  UNION ALL
  MATCH (n:NamespaceSettings {namespace: $namespace}) RETURN 'NamespaceSettings' AS label, count(n) AS count
}
WITH label, count WHERE count > 0
RETURN label, count
