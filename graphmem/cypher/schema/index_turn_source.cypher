// A live add finds the stored turn of a message id (a correction) by its source id.
CREATE INDEX turn_source IF NOT EXISTS FOR (n:Turn) ON (n.source_id)
