// Is anything stored twice? Entities sharing a normalised name, and turns sharing a conversation position (none in a healthy store).
// Parameters: $namespace.
CALL {
  MATCH (n:Entity) WHERE n.namespace = $namespace
  WITH n.key AS key, count(*) AS copies WHERE copies > 1
  RETURN 'Entity' AS kind, key AS what, copies
  UNION ALL
  MATCH (t:Turn) WHERE t.namespace = $namespace
  WITH t.conversation_id + ' #' + toString(t.seq) AS position, count(*) AS copies WHERE copies > 1
  RETURN 'Turn' AS kind, position AS what, copies
}
RETURN kind, what, copies
ORDER BY copies DESC
