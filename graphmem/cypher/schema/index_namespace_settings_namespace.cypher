// Every NamespaceSettings lookup is scoped to one namespace (tenant).
CREATE INDEX namespace_settings_namespace IF NOT EXISTS FOR (n:NamespaceSettings) ON (n.namespace)
