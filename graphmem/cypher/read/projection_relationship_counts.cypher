// Relationship counts per type of a namespace (counted from the start node), for the retrieval
// projection's manifest: one branch per start label through its namespace index (see
// projection_node_counts).
CALL {
  MATCH (a:Conversation {namespace: $namespace})-[r]->() RETURN type(r) AS type
  UNION ALL
  MATCH (a:Session {namespace: $namespace})-[r]->() RETURN type(r) AS type
  UNION ALL
  MATCH (a:Turn {namespace: $namespace})-[r]->() RETURN type(r) AS type
  UNION ALL
  MATCH (a:TurnVersion {namespace: $namespace})-[r]->() RETURN type(r) AS type
  UNION ALL
  MATCH (a:Episode {namespace: $namespace})-[r]->() RETURN type(r) AS type
  UNION ALL
  MATCH (a:Event {namespace: $namespace})-[r]->() RETURN type(r) AS type
  UNION ALL
  MATCH (a:Entity {namespace: $namespace})-[r]->() RETURN type(r) AS type
  UNION ALL
  MATCH (a:Topic {namespace: $namespace})-[r]->() RETURN type(r) AS type
  UNION ALL
  MATCH (a:NamespaceSettings {namespace: $namespace})-[r]->() RETURN type(r) AS type
}
RETURN type, count(*) AS count
