// Integrity: the stored text of each Episode in $ids with the position, speaker, text and caption of each of
// its turns, read in one statement (one state); check.py joins the turns' texts as every writer does
// (graphmem.ingest.common.indexed_text) and names the episodes whose text differs. Parameters: $namespace, $ids.
UNWIND $ids AS episode_id
MATCH (e:Episode {id: episode_id})
WHERE e.namespace = $namespace
MATCH (t:Turn)-[:PART_OF]->(e)
RETURN e.id AS id, e.text AS text, collect({seq: t.seq, speaker: t.speaker, text: t.text, caption: t.caption}) AS turns
