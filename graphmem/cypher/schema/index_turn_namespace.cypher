// Every Turn lookup is scoped to one namespace (tenant).
CREATE INDEX turn_namespace IF NOT EXISTS FOR (n:Turn) ON (n.namespace)
