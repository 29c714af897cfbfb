// Every Entity lookup is scoped to one namespace (tenant).
CREATE INDEX entity_namespace IF NOT EXISTS FOR (n:Entity) ON (n.namespace)
