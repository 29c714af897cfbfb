"""Real-world text: one turn's failure is contained, line separators inside JSON strings,
queries with nothing to search for (issue: LongMemEval haystacks ingest without crashing)."""

from __future__ import annotations

import json
import logging
import signal

import pytest
from samples import GARDEN, write_native
from typer.testing import CliRunner

from graphmem import Memory
from graphmem.cli import app
from graphmem.loaders import load
from graphmem.ingest import events as event_stage

MARKER = "violin recital"  # the failure is planted on G1:4, the only turn saying this


def _raise_on_marker(original):
    def wrapper(text, *args, **kwargs):
        if MARKER in text:
            raise IndexError("planted: list index out of range")
        return original(text, *args, **kwargs)
    return wrapper


def _turn(memory, source_id):
    rows = memory.cypher(
        "MATCH (t:Turn) WHERE t.namespace = $namespace AND t.source_id = $sid "
        "OPTIONAL MATCH (e:Event)-[:FROM]->(t) RETURN t.id AS id, t.text AS text, "
        "t.extraction_error AS error, count(e) AS events", {"sid": source_id})
    assert len(rows) == 1
    return rows[0]


@pytest.mark.parametrize("where", ["split_events", "resolve"])
def test_a_turn_whose_derivation_raises_is_stored_verbatim_flagged_and_the_rest_ingested(
        tmp_path, test_settings, embedder, monkeypatch, caplog, where):
    if where == "split_events":
        monkeypatch.setattr(event_stage, "split_events", _raise_on_marker(event_stage.split_events))
    else:
        original = event_stage.EntityResolver.resolve

        def resolve(self, mentions, *args, **kwargs):
            if any("Chaconne" in m.text for m in mentions):  # only G1:6 names the Chaconne
                raise KeyError("planted resolution failure")
            return original(self, mentions, *args, **kwargs)
        monkeypatch.setattr(event_stage.EntityResolver, "resolve", resolve)
    # the planted turn: G1:4 for event splitting; G1:6 for resolution, which only sees named
    # things (G1:4 names none: "violin recital" is a key phrase, "next Friday" a time)
    bad_sid, bad_index, query = (("G1:4", 3, "violin recital at the town hall") if where == "split_events"
                                 else ("G1:6", 5, "Bach's Partita in D minor, the Chaconne"))
    source = write_native(tmp_path)
    caplog.set_level(logging.ERROR, logger="graphmem.ingest.events")
    with Memory.open(tmp_path / "store", namespace="contained", settings=test_settings) as memory:
        calls: list[tuple[str, int]] = []
        report = memory.ingest(source, progress=lambda stage, done, total: calls.append((stage, done)))
        assert report.turns_added == 10
        assert report.turns_flagged == 1
        # the failed turn still counts as extracted; planning again without it counts no turn twice
        extracted = [done for stage, done in calls if stage == "extract"]
        assert extracted == sorted(set(extracted)) and extracted[-1] == 10, extracted
        bad = _turn(memory, bad_sid)
        assert bad["text"] == GARDEN["sessions"][0]["turns"][bad_index]["text"]  # stored verbatim
        assert bad["events"] == 0
        assert bad["error"] and ("IndexError" in bad["error"] or "KeyError" in bad["error"])
        for sid in ("G1:1", "G1:3", "G2:4"):
            good = _turn(memory, sid)
            assert good["events"] >= 1 and good["error"] is None
        # the error is logged with the conversation and the turn id
        logged = [r for r in caplog.records if bad["id"] in r.getMessage()]
        assert logged and "garden-chat" in logged[0].getMessage()
        # check counts the turn (information: the graph itself is sound), the recipe lists it
        checked = memory.check()
        assert checked.ok
        assert checked.extraction_errors == [bad["id"]]
        assert "1 turns stored without events" in checked.summary()
        from graphmem.resources import recipes
        recipe = next(r for r in recipes() if r.name == "failed_turns")
        rows = memory.cypher(recipe.text, {"namespace": memory.namespace, "limit": 10})
        assert [r["turn_id"] for r in rows] == [bad["id"]]
        assert rows[0]["source_id"] == bad_sid and rows[0]["conversation"] == "garden-chat"
        # searching still finds the flagged turn by its words
        hits = memory.search(query, k=3)
        assert bad["id"] in [h.node_id for h in hits]


def test_a_stop_wrapped_in_a_turns_error_stops_the_ingest_instead_of_flagging_the_turn(
        tmp_path, test_settings, embedder, monkeypatch):
    """A stop signal that reaches the event stage wrapped in another error (an extension
    module's import turns it into ImportError) ends the ingest, writing nothing; it is not one
    turn's failure to contain and go on past."""
    from graphmem.signals import Interrupted

    def split_events(text, *args, **kwargs):
        if MARKER in text:
            raise ImportError("initialization failed") from Interrupted(signal.SIGTERM)
        return original(text, *args, **kwargs)
    original = event_stage.split_events
    monkeypatch.setattr(event_stage, "split_events", split_events)
    source = write_native(tmp_path)
    with Memory.open(tmp_path / "store", namespace="stopped", settings=test_settings) as memory:
        with pytest.raises(Interrupted):
            memory.ingest(source)
        assert memory.cypher("MATCH (n) WHERE n.namespace = $namespace RETURN count(n) AS n") == [{"n": 0}]
        monkeypatch.setattr(event_stage, "split_events", original)
        report = memory.ingest(source)  # the same memory goes on: the stop left nothing behind
        assert report.turns_added == 10 and report.turns_flagged == 0


def test_line_separators_inside_json_strings_are_text_not_line_ends(tmp_path):
    lines = [
        {"role": "user", "content": "first line\u2028second line after U+2028", "timestamp": "2024-01-01T10:00:00"},
        {"role": "assistant", "content": "a next-line \u0085 and a paragraph \u2029 separator, and \u000b\u000c too"},
        {"role": "user", "content": "plain"},
    ]
    path = tmp_path / "chat.jsonl"
    path.write_text("\r\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\r\n", encoding="utf-8")
    [record] = load(path)
    texts = [t.text for s in record.sessions for t in s.turns]
    assert texts == [x["content"] for x in lines]


def test_transcripts_split_on_newlines_only(tmp_path):
    path = tmp_path / "chat.txt"
    path.write_text("Alice: one\u2028still Alice\nBob: two\u0085still Bob\n", encoding="utf-8")
    [record] = load(path, format="transcript")
    turns = [(t.speaker, t.text) for s in record.sessions for t in s.turns]
    assert turns == [("Alice", "one\u2028still Alice"), ("Bob", "two\u0085still Bob")]


def test_a_query_without_letters_or_digits_gets_no_hits_and_the_cli_says_why(tmp_path, test_settings, embedder):
    source = write_native(tmp_path)
    store = tmp_path / "store"
    with Memory.open(store, namespace="noword", settings=test_settings) as memory:
        memory.ingest(source)
        assert memory.search("?!... ---", k=5) == []
        assert memory.search("basil?", k=5)  # a word among punctuation still searches
    result = CliRunner().invoke(app, ["search", "?!... ---", "--store", str(store), "--namespace", "noword"],
                                env={"GRAPHMEM_INDEX_DIR": test_settings.index_dir})
    assert result.exit_code == 0, result.output
    assert "no letters or digits" in result.output
