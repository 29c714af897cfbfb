// One turn per position: Turn.slot names (namespace, conversation, seq), so two writers
// appending at one position at once cannot both commit (the loser plans again).
CREATE CONSTRAINT turn_slot IF NOT EXISTS FOR (n:Turn) REQUIRE n.slot IS UNIQUE
