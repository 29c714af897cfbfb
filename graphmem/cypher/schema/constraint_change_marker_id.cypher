// One change marker per namespace (concurrent writers bump the same node).
CREATE CONSTRAINT change_marker_id IF NOT EXISTS FOR (n:ChangeMarker) REQUIRE n.id IS UNIQUE
