// Every Session lookup is scoped to one namespace (tenant).
CREATE INDEX session_namespace IF NOT EXISTS FOR (n:Session) ON (n.namespace)
