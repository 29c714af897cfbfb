// One settings node per namespace (set_timezone from two processes merges the same node).
CREATE CONSTRAINT namespace_settings_id IF NOT EXISTS FOR (n:NamespaceSettings) REQUIRE n.id IS UNIQUE
