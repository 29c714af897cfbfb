// Forget: the earlier texts of the Turns in $ids (their TurnVersions, deleted with them), so that no
// topic label keeps a word only a corrected-away text gave. Parameters: $namespace, $ids.
UNWIND $ids AS turn_id
MATCH (v:TurnVersion)-[:VERSION_OF]->(t:Turn {id: turn_id})
WHERE t.namespace = $namespace
RETURN v.id AS id, v.text AS text, v.caption AS caption, v.speaker AS speaker
