// Relationship counts per type in a namespace (counted from the start node), one branch per
// start label through its namespace index (see count_nodes).
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
}
RETURN type, count(*) AS count
