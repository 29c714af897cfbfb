// Every Topic lookup is scoped to one namespace (tenant).
CREATE INDEX topic_namespace IF NOT EXISTS FOR (n:Topic) ON (n.namespace)
