// Relabel Topics in place, their ids kept (a forget took words of their members away): label,
// terms, size, and the fitted model's state on the granularity's first topic (null on the
// others). $rows: [{id, label, terms, size, model_state}]
UNWIND $rows AS row
MATCH (t:Topic {id: row.id})
SET t.label = row.label, t.terms = row.terms, t.size = row.size, t.model_state = row.model_state
