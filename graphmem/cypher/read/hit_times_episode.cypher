// The resolved time of the events of episode hits: earliest time_start and latest time_end (or start) of events whose time is known.
// Parameters: $ids (episode node ids), $namespace.
UNWIND $ids AS id
MATCH (n:Episode {id: id})<-[:PART_OF]-(:Turn)<-[:FROM]-(v:Event)
WHERE n.namespace = $namespace AND v.time_start IS NOT NULL
RETURN id, min(v.time_start) AS time_start, max(coalesce(v.time_end, v.time_start)) AS time_end
