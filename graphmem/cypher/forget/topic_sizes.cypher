// Number of members (IN_TOPIC) of each Topic in $ids. Parameters: $namespace, $ids.
UNWIND $ids AS topic_id
MATCH (t:Topic {id: topic_id})
WHERE t.namespace = $namespace
RETURN t.id AS id, COUNT { MATCH ()-[:IN_TOPIC]->(t) } AS members
