// Forget: delete the Topics in $ids left without members (with their WITHIN links). Parameters: $namespace, $ids.
UNWIND $ids AS topic_id
MATCH (t:Topic {id: topic_id})
WHERE t.namespace = $namespace AND NOT EXISTS { MATCH ()-[:IN_TOPIC]->(t) }
DETACH DELETE t
