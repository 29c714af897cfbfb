"""Hits for agents (issue 17, item 6): resolved event times on every unit, a compact ``to_dict``
and ``search --json`` (the explanation only when asked), and ``Memory.context`` for a prompt.
On the real embedded store and embedding model."""

from __future__ import annotations

import json

import pytest
from samples import write_native
from typer.testing import CliRunner

from graphmem.cli import app
from graphmem.hits import Hit, context_text
from graphmem.memory import Memory

runner = CliRunner()
QUERY = "planted tomatoes and basil"  # G1:1 "... yesterday", said on 2024-04-06


@pytest.fixture(scope="module")
def garden(tmp_path_factory):
    directory = tmp_path_factory.mktemp("hits")
    store = str(directory / "store")
    with Memory.open(store, "hits") as memory:
        memory.ingest(write_native(directory))
        yield memory, store


def test_hits_carry_the_resolved_time_of_their_events_at_every_unit(garden):
    memory, _ = garden
    (turn,) = memory.search(QUERY, k=1, unit="turn", strategy="lexical")
    assert turn.source_id == "G1:1"
    assert turn.time_start.startswith("2024-04-05") and turn.time_end.startswith("2024-04-05")
    (event,) = memory.search(QUERY, k=1, unit="event", strategy="lexical")
    assert event.time_start.startswith("2024-04-05")
    for unit in ("episode", "session"):
        (hit,) = memory.search(QUERY, k=1, unit=unit, strategy="lexical")
        assert hit.session_number == 1
        assert hit.time_start is not None and hit.time_start <= turn.time_start <= hit.time_end, unit
    (plain,) = memory.search("Bach Partita Chaconne", k=1, unit="turn", strategy="lexical")
    assert plain.source_id == "G1:6" and plain.time_start is None and plain.time_end is None  # no time said


def test_to_dict_is_compact_unless_explain(garden):
    memory, _ = garden
    hits = memory.search(QUERY, k=3)
    compact = [h.to_dict() for h in hits]
    full = [h.to_dict(explain=True) for h in hits]
    assert all("explanation" not in d for d in compact) and all(d["explanation"] for d in full)
    assert {"node_id", "text", "score", "source_id", "speaker", "timestamp", "time_start", "time_end"} <= set(compact[0])
    assert len(json.dumps(compact)) < len(json.dumps(full))
    assert Hit(**full[0]).to_dict() == compact[0]


def test_search_json_is_compact_and_explain_adds_the_explanation(garden):
    _, store = garden
    base = ["search", QUERY, "--store", store, "--namespace", "hits", "-k", "2", "--json"]
    plain = json.loads(runner.invoke(app, base).stdout)
    assert len(plain) == 2 and all("explanation" not in h and "explanation_text" not in h for h in plain)
    assert plain[0]["time_start"].startswith("2024-04-05")
    explained = json.loads(runner.invoke(app, [*base, "--explain"]).stdout)
    assert all(h["explanation"] and h["explanation_text"].startswith("turn ") for h in explained)


def test_context_is_a_prompt_ready_block_with_date_speaker_session_and_source(garden):
    memory, store = garden
    text = memory.context(QUERY, k=2)
    lines = text.splitlines()
    assert lines[0] == f"Memories relevant to: {QUERY}"
    assert lines[2] == "[1] 2024-04-06 09:30 · Alice · session 1 of garden-chat · source G1:1 · happened 2024-04-05"
    assert lines[3] == "    I planted tomatoes and basil in the back garden yesterday."
    assert lines[4].startswith("[2] ") and len(lines) == 6
    assert "[" not in lines[3] and "{" not in text  # plain text, no markup or JSON
    assert memory.context("?!...", k=2) == "No memories found for: ?!..."
    result = runner.invoke(app, ["search", QUERY, "--store", store, "--namespace", "hits", "-k", "2", "--context"])
    assert result.exit_code == 0 and result.stdout.rstrip("\n") == text


def test_a_turn_shown_with_its_image_caption_in_context_and_an_mcp_line():
    """"Look at this!" says nothing without the image it came with: a turn hit's caption follows
    its text wherever a reader (a model, a person) sees the memory; an event hit says it already."""
    from graphmem.server.mcp import format_hit

    turn = Hit(node_id="turn:1", unit="turn", text="Look at this!", score=1.0, strategy="dense", speaker="Ann",
               caption="a photo of a red road bike", metadata={"channel": "sms"})
    event = Hit(node_id="event:1", unit="event", text="shared an image: a photo of a red road bike", score=1.0,
                strategy="dense", speaker="Ann", caption="a photo of a red road bike")
    assert context_text("bike", [turn]).splitlines()[3] == "    Look at this! [image: a photo of a red road bike]"
    assert format_hit(1, turn, "bike").startswith("1. [Ann] Look at this! [image: a photo of a red road bike] (score")
    assert context_text("bike", [event]).splitlines()[3] == "    shared an image: a photo of a red road bike"
    assert Hit.from_dict(turn.to_dict()) == turn
    html = Hit(node_id="turn:2", unit="turn", text="Look <b>", score=1.0, strategy="dense", caption="a <cat>")._repr_html_()
    assert "Look &lt;b&gt; [image: a &lt;cat&gt;]" in html  # in a notebook too, escaped


def test_context_text_of_an_episode_keeps_its_lines():
    hit = Hit(node_id="episode:1", unit="episode", text="Ann: one\nBo: two", score=1.0, strategy="dense",
              session_number=3, conversation_id="c", timestamp="2024-01-02T00:00:00")
    assert context_text("q", [hit]).splitlines()[2:] == ["[1] 2024-01-02 · session 3 of c · source episode:1",
                                                         "    Ann: one", "    Bo: two"]
