// Which memories belong to a topic? Members of one Topic by membership probability.
// Parameters: $namespace, $topic_id (from topics.cypher), $limit (default 20).
// The pattern starts at the topic: from its unlabelled members ArcadeDB scanned every node (3.7-5.2 s at 100k turns).
MATCH (t:Topic {id: $topic_id})<-[r:IN_TOPIC]-(u)
WHERE t.namespace = $namespace
RETURN labels(u)[0] AS unit, u.id AS id, coalesce(u.source_id, '') AS source_id, u.text AS text, r.p AS p
ORDER BY p DESC
LIMIT $limit
