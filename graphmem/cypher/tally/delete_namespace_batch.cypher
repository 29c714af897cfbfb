// Delete up to $limit nodes of one namespace with their relationships, all but its change marker
// ($marker: its id), which the same transaction bumps so that other processes learn of the drop at
// their next query; Memory.drop_namespace repeats it until it returns 0, then deletes the marker.
// Parameters: $namespace, $marker, $limit.
MATCH (n)
WHERE n.namespace = $namespace AND n.id <> $marker
WITH n LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted
