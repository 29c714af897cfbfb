// After a forget, per probe {topic, term, words}: up to $limit Event members of the Topic whose
// lower-cased text holds every word of the term (a label word is still said if one of them gives
// it as a term). The members are read only until $limit match, not all of the topic's.
// Parameters: $namespace, $probes, $limit.
UNWIND $probes AS probe
CALL {
  WITH probe
  MATCH (t:Topic {id: probe.topic})<-[:IN_TOPIC]-(u:Event)
  WHERE t.namespace = $namespace AND all(w IN probe.words WHERE toLower(u.text) CONTAINS w)
  RETURN u.text AS text
  LIMIT $limit
}
RETURN probe.topic AS topic, probe.term AS term, text
