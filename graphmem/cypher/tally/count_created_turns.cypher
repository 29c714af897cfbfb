// Run in an ingest's transaction after its write/merge_turns: how many of the planned new turns this
// transaction created. Their rows carry $mark, which MERGE sets only ON CREATE: a turn a concurrent
// ingest of the same file stored first is matched, not created, and is not counted (both ingests
// counted it as added). The mark is removed here, so it never outlives the transaction.
// Parameters: $ids (the planned new turns' ids), $mark.
UNWIND $ids AS id
MATCH (t:Turn {id: id})
WHERE t.tally_mark = $mark
REMOVE t.tally_mark
RETURN count(t) AS created
