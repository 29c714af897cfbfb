// Units of one granularity with their embedding and their strongest topic (for a 2-D topic map).
// $label_of_unit is not interpolated: one file serves all granularities by matching the topic's granularity.
MATCH (u)-[r:IN_TOPIC]->(t:Topic)
WHERE t.namespace = $namespace AND t.granularity = $granularity
WITH u, t, r
ORDER BY r.p DESC
WITH u, collect(t)[0] AS topic
RETURN u.id AS id, u.embedding AS embedding, topic.id AS topic_id, topic.label AS topic_label
