// Every soft topic membership of the units of the granularities $granularities of a namespace
// (as read/projection_topic_members), read again after a write fitted their topics.
MATCH (c:Topic {namespace: $namespace})<-[r:IN_TOPIC]-(x)
WHERE c.granularity IN $granularities
RETURN x.id AS member, c.id AS topic, r.p AS p
