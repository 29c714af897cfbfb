// Where a turn sits (its conversation, Turn.seq and session number), to page back from it; the
// caller checks the conversation. Parameters: $namespace, $id.
// (The namespace is checked after the id lookup: see read/turn_current.)
MATCH (t:Turn {id: $id})
WITH t WHERE t.namespace = $namespace
RETURN t.conversation_id AS conversation_id, t.seq AS seq, t.session_number AS session_number
