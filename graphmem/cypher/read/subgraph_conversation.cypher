// A conversation with its sessions and their episodes (in order), and the NEXT links between episodes.
MATCH (c:Conversation)
WHERE c.namespace = $namespace AND c.key = $conversation
MATCH (s:Session)-[:OF]->(c)
OPTIONAL MATCH (ep:Episode)
WHERE ep.namespace = $namespace AND ep.conversation_id = c.key AND ep.session_key = s.key
OPTIONAL MATCH (ep)-[:NEXT]->(after:Episode)
RETURN c.id AS conversation_id, c.key AS conversation_key, s.id AS session_id, s.number AS session,
       s.started_at AS started_at, ep.id AS episode_id, ep.text AS episode_text, ep.turn_count AS turns,
       ep.start_seq AS start_seq, after.id AS next_episode
ORDER BY session, start_seq
LIMIT $limit
