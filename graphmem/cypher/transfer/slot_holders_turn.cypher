// Import: the stored turns at these positions (Turn.slot, unique in the store: a dump's turn at a position
// another turn holds would fail on the constraint half way through the import). $slots: [slot]
MATCH (n:Turn)
WHERE n.slot IN $slots
RETURN n.slot AS slot, n.id AS id, n.namespace AS namespace, n.conversation_id AS conversation, n.seq AS seq
