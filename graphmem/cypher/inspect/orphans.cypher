// Is anything left dangling? Counts of nodes that lost their structural links (no rows in a healthy store).
// Parameters: $namespace.
// Each pattern starts at the bound node (one starting at an unbound node made ArcadeDB scan the store
// for each row).
CALL {
  MATCH (t:Turn) WHERE t.namespace = $namespace AND NOT (t)-[:IN]->(:Session)
  RETURN 'Turn without Session' AS problem, count(t) AS count
  UNION ALL
  MATCH (t:Turn) WHERE t.namespace = $namespace AND NOT (t)-[:PART_OF]->(:Episode)
  RETURN 'Turn without Episode' AS problem, count(t) AS count
  UNION ALL
  MATCH (e:Event) WHERE e.namespace = $namespace AND NOT (e)-[:FROM]->(:Turn)
  RETURN 'Event without Turn' AS problem, count(e) AS count
  UNION ALL
  MATCH (e:Episode) WHERE e.namespace = $namespace AND NOT (e)<-[:PART_OF]-(:Turn)
  RETURN 'Episode without Turns' AS problem, count(e) AS count
  UNION ALL
  MATCH (s:Session) WHERE s.namespace = $namespace AND NOT (s)-[:OF]->(:Conversation)
  RETURN 'Session without Conversation' AS problem, count(s) AS count
  UNION ALL
  MATCH (s:Session) WHERE s.namespace = $namespace AND NOT (s)<-[:IN]-(:Turn)
  RETURN 'Session without Turns' AS problem, count(s) AS count
  UNION ALL
  MATCH (c:Conversation) WHERE c.namespace = $namespace AND NOT (c)<-[:OF]-(:Session)
  RETURN 'Conversation without Sessions' AS problem, count(c) AS count
  UNION ALL
  MATCH (n:Entity) WHERE n.namespace = $namespace AND NOT (n)<-[:INVOLVES]-(:Event) AND NOT (n)-[:ALIAS_OF]-(:Entity)
    AND NOT EXISTS { MATCH (c:Conversation) WHERE c.namespace = $namespace AND any(s IN c.speakers WHERE toLower(trim(s)) = n.key) }
  RETURN 'Entity in no Event (and no speaker)' AS problem, count(n) AS count
  UNION ALL
  MATCH (t:Topic) WHERE t.namespace = $namespace AND NOT (t)<-[:IN_TOPIC]-()
  RETURN 'Topic without members' AS problem, count(t) AS count
}
WITH problem, count WHERE count > 0
RETURN problem, count
