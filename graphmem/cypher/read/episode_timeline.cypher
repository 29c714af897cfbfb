// Episodes of a namespace in conversation order, with how many turns each speaker contributed.
MATCH (t:Turn)-[:PART_OF]->(ep:Episode)
WHERE ep.namespace = $namespace
RETURN ep.id AS episode_id, ep.conversation_id AS conversation, ep.session_number AS session,
       ep.start_seq AS start_seq, ep.started_at AS started_at, ep.ended_at AS ended_at,
       t.speaker AS speaker, count(t) AS turns
ORDER BY conversation, start_seq
