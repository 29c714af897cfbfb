// How an entity takes part in the namespace's events, per role (speaker, addressee, mention):
// events, turns, the first and last time its events' turns were said (events with no time of
// their own are counted apart: see entity_undated_times), the conversations. Memory.entity.
// Parameters: $namespace, $id (the canonical Entity's node id).
MATCH (e:Entity {id: $id})
WITH e WHERE e.namespace = $namespace
MATCH (ev:Event)-[r:INVOLVES]->(e)
RETURN r.role AS role, count(ev) AS events, count(DISTINCT ev.turn_id) AS turns, count(ev.timestamp) AS dated,
       min(ev.timestamp) AS first, max(ev.timestamp) AS last, collect(DISTINCT ev.conversation_id) AS conversations
