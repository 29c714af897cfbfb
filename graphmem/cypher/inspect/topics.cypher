// What topics does this memory have? Lists every Topic with its granularity, label, members (units in it now) and fitted size.
// Parameters: $namespace (the tenant). members counts the units with an IN_TOPIC edge to it, those placed since the fit
// included; fitted_size is Topic.size, the units whose most probable topic it was when the topics were last fitted.
MATCH (t:Topic)
WHERE t.namespace = $namespace
RETURN t.granularity AS granularity, t.label AS label, COUNT { ()-[:IN_TOPIC]->(t) } AS members, t.size AS fitted_size,
       t.id AS topic_id
ORDER BY granularity, members DESC
