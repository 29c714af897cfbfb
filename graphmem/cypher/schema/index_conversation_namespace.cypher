// Every Conversation lookup is scoped to one namespace (tenant).
CREATE INDEX conversation_namespace IF NOT EXISTS FOR (n:Conversation) ON (n.namespace)
