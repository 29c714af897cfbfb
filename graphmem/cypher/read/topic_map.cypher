// Units of one granularity with their embedding and their strongest topic (for a 2-D topic map).
// $label_of_unit is not interpolated: one file serves all granularities by matching the topic's granularity.
// The pattern starts at the namespace's topics: from the unlabelled units ArcadeDB scanned every node of the store.
MATCH (t:Topic)<-[r:IN_TOPIC]-(u)
WHERE t.namespace = $namespace AND t.granularity = $granularity
WITH u, t, r
ORDER BY r.p DESC
WITH u, collect(t)[0] AS topic
RETURN u.id AS id, u.embedding AS embedding, topic.id AS topic_id, topic.label AS topic_label
