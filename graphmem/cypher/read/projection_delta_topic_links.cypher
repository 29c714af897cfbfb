// The rows of read/projection_topic_links from the topics $topics (ids) of a namespace: every link
// an append makes starts at one of the child topics it names.
UNWIND $topics AS cid
MATCH (a:Topic {id: cid})-[r:WITHIN]->(b:Topic)
WHERE a.namespace = $namespace
RETURN a.id AS src, b.id AS dst, r.w AS w
