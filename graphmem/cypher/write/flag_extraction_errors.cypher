// Flag turns whose events and entities could not be derived (stored verbatim, no events).
// Parameters: $rows [{id, error}].
UNWIND $rows AS row
MATCH (t:Turn {id: row.id})
SET t.extraction_error = row.error
