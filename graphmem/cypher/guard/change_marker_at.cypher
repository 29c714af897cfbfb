// A write's guard, run first in its transaction: the namespace's change marker is still at the version the
// write was planned at (0: no marker yet). A write planned from reads that another process's commit has
// changed since (a forget beside an add, over Bolt) returns no row: the store refuses it whole and the
// writer plans again. The REMOVE of a property no marker has takes the marker's write lock before the
// version is read (Neo4j); ArcadeDB refuses the later of two commits that both write the marker.
// Parameters: $namespace, $id (the marker's id), $version.
OPTIONAL MATCH (m:ChangeMarker {id: $id})
REMOVE m.guard_lock
WITH m
WHERE (m IS NULL AND $version = 0) OR (m.namespace = $namespace AND coalesce(m.version, 0) = $version)
RETURN 1 AS ok
