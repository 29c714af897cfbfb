// Unique id for every TurnVersion (an earlier text of a corrected turn; its id is the turn's id and the
// version number it had): two writers correcting one message at once would both keep its text as the same
// version, and the second now fails on this rule and plans again from what the first committed.
CREATE CONSTRAINT turn_version_id IF NOT EXISTS FOR (n:TurnVersion) REQUIRE n.id IS UNIQUE
