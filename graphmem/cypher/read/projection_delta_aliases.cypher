// The rows of read/projection_aliases from the entities $entities (ids) of a namespace: every
// alias an append makes starts at one of the entities it names.
UNWIND $entities AS nid
MATCH (a:Entity {id: nid})-[:ALIAS_OF]->(b:Entity)
WHERE a.namespace = $namespace
RETURN a.id AS alias_id, b.id AS entity_id
