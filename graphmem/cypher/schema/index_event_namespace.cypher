// Every Event lookup is scoped to one namespace (tenant).
CREATE INDEX event_namespace IF NOT EXISTS FOR (n:Event) ON (n.namespace)
