// A correction: keep a Turn's current text as a (:TurnVersion)-[:VERSION_OF]->(Turn), then give the
// Turn its new text and embedding (its id and position stay).
// The new message's metadata replaces the old (props sets its meta_* keys and nulls the old ones it
// lacks); the version keeps the old metadata (version_meta).
// $rows: [{id, version_id, replaced_at, version_meta: {meta_*}, props: {text, speaker, caption, timestamp, embedding,
//          version, updated_at, meta_*}}].
// Parameters: $namespace, $rows.
UNWIND $rows AS row
MATCH (t:Turn {id: row.id})
WHERE t.namespace = $namespace
CREATE (v:TurnVersion {id: row.version_id, namespace: $namespace, turn_id: row.id, version: coalesce(t.version, 0),
                       speaker: t.speaker, text: t.text, caption: t.caption, timestamp: t.timestamp,
                       replaced_at: row.replaced_at})
CREATE (v)-[:VERSION_OF]->(t)
SET v += row.version_meta
SET t += row.props
REMOVE t.extraction_error
