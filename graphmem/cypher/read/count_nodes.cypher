// Node counts per label in a namespace, labels it has no node of left out (the change marker is
// bookkeeping, not memory: left out too). One branch per label, each matched through its
// namespace index: a label-free MATCH would scan every namespace of the store.
// tests/test_namespace_reads.py checks the labels against the schema.
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
}
WITH label, count WHERE count > 0
RETURN label, count
