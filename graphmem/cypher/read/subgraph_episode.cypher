// An episode with its turns, their events and the entities those events involve.
// (The namespace is checked after the id lookup: written beside it, ArcadeDB's planner scanned the
// namespace's episodes, 91 ms at 10,000 turns against 1.3 ms; see read/turn_current.)
MATCH (ep:Episode {id: $episode_id})
WITH ep WHERE ep.namespace = $namespace
MATCH (t:Turn)-[:PART_OF]->(ep)
OPTIONAL MATCH (ev:Event)-[:FROM]->(t)
OPTIONAL MATCH (ev)-[r:INVOLVES]->(n:Entity)
RETURN ep.id AS episode_id, ep.session_number AS session, t.id AS turn_id, t.source_id AS source_id,
       t.speaker AS speaker, t.text AS turn_text, t.seq AS seq, ev.id AS event_id, ev.text AS event_text,
       n.id AS entity_id, n.name AS entity_name, n.label AS entity_label, r.role AS role
ORDER BY t.seq
