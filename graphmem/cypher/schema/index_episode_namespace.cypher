// Every Episode lookup is scoped to one namespace (tenant).
CREATE INDEX episode_namespace IF NOT EXISTS FOR (n:Episode) ON (n.namespace)
