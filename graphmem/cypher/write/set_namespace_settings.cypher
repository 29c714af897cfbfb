// Store a namespace's time zone (Memory.set_timezone); a null timezone removes it, so the process's
// Settings.timezone applies again. $rows: [{id, timezone, at}]. Parameters: $namespace, $rows.
UNWIND $rows AS row
MERGE (s:NamespaceSettings {id: row.id})
ON CREATE SET s.namespace = $namespace
SET s.timezone = row.timezone, s.updated_at = row.at
