// Integrity: units ASSOCIATED with themselves (associations join memories of different sessions).
// Parameters: $namespace.
CALL {
  MATCH (a:Turn)-[:ASSOCIATED]->(a) WHERE a.namespace = $namespace RETURN a.id AS id
  UNION ALL
  MATCH (a:Event)-[:ASSOCIATED]->(a) WHERE a.namespace = $namespace RETURN a.id AS id
  UNION ALL
  MATCH (a:Episode)-[:ASSOCIATED]->(a) WHERE a.namespace = $namespace RETURN a.id AS id
  UNION ALL
  MATCH (a:Session)-[:ASSOCIATED]->(a) WHERE a.namespace = $namespace RETURN a.id AS id
}
RETURN DISTINCT id
