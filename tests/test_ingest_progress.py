"""Ingest progress moves per turn inside one long conversation (issue 17, "an honest CLI"):
stage ``extract`` counts the turns whose events and entities are derived, reported from inside
the extraction of a conversation, before the conversation is stored. Real embedded store, real
embedding model, real language pipeline."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from conftest import settings_for
from samples import write_native
from typer.testing import CliRunner

from graphmem.cli import app
from graphmem.memory import Memory
from graphmem.records import ConversationRecord, SessionRecord, TurnRecord

TURNS = 40
TOPICS = ["the garden", "a violin lesson", "the new kitchen", "a hiking trip", "the cat Biscuit", "a pottery class"]
START = datetime(2024, 3, 1, 9, 0)


def _one_line(i: int) -> str:
    """A short chat turn: at most one event, the turn itself, so it needs no embedding of its own."""
    return f"Turn {i}: I keep thinking about {TOPICS[i % len(TOPICS)]} and what happened on day {i // 7}."


def _three_events(i: int) -> str:
    """A turn of three sentences, each its own event (embedded apart from the turn); the earlier
    the turn, the longer its sentences, so the events' embedding (longest first) ends turn by turn."""
    pad = " very" * (3 * (TURNS - i))
    return " ".join(f"The{pad} long day {i} story number {j} was about {TOPICS[(i + j) % len(TOPICS)]}." for j in range(3))


def _conversation(text=_one_line) -> ConversationRecord:
    rows = tuple(TurnRecord(speaker="Ann" if i % 2 == 0 else "Bo", text=text(i), source_id=f"P:{i}",
                            timestamp=START + timedelta(minutes=i)) for i in range(TURNS))
    return ConversationRecord(key="progress-one", sessions=(SessionRecord(key="1", number=1, started_at=START, turns=rows),),
                              speakers=("Ann", "Bo"))


def _ingest(tmp_path, record: ConversationRecord, **settings) -> tuple[list[tuple[str, int, int]], object]:
    calls: list[tuple[str, int, int]] = []
    with Memory.open(str(tmp_path / "store"), "progress", settings=dataclasses.replace(settings_for(tmp_path), **settings)) as memory:
        report = memory.ingest(record, progress=lambda stage, done, total: calls.append((stage, done, total)))
    return calls, report


def _extract_before_store(calls: list[tuple[str, int, int]]) -> list[int]:
    """The ``extract`` counts reported before the conversation was committed (its ``ingest`` call)."""
    stored = [i for i, (stage, _, _) in enumerate(calls) if stage == "ingest"]
    assert stored, calls
    return [done for stage, done, _ in calls[:stored[0]] if stage == "extract"]


def _assert_moves_per_turn(calls: list[tuple[str, int, int]]) -> None:
    extract = [(done, total) for stage, done, total in calls if stage == "extract"]
    assert extract, f"no extract stage reported: {sorted({c[0] for c in calls})}"
    assert {total for _, total in extract} == {TURNS}
    counts = [done for done, _ in extract]
    assert counts == sorted(counts), counts  # never decreases
    assert counts[-1] == TURNS
    inside = sorted(set(done for done in _extract_before_store(calls) if done < TURNS))
    assert len(inside) > 2, f"extract did not move inside the conversation: {counts}"
    assert [done for stage, done, _ in calls if stage == "ingest"] == [TURNS]


def test_extract_progress_moves_per_turn_inside_one_conversation(tmp_path):
    calls, report = _ingest(tmp_path, _conversation())
    assert report.conversations == 1 and report.turns_added == TURNS
    _assert_moves_per_turn(calls)
    # short turns need no embedding of their own: they count one by one, as they are derived
    counts = [done for stage, done, _ in calls if stage == "extract"]
    assert len(counts) >= TURNS // 2, counts


def test_extract_progress_moves_while_the_events_are_embedded(tmp_path):
    """Every turn splits into events embedded apart from it: a turn counts when its last event is
    embedded, so the count moves between the embedding slices (2 batches of 4 texts here)."""
    calls, report = _ingest(tmp_path, _conversation(_three_events), embedding_batch_size=4)
    assert report.turns_added == TURNS and report.units_embedded["event"] == 3 * TURNS
    _assert_moves_per_turn(calls)


def test_cli_ingest_of_one_long_conversation_exits_0_with_an_extract_bar(tmp_path):
    doc = {"id": "progress-one", "speakers": ["Ann", "Bo"], "sessions": [
        {"id": "1", "started_at": START.isoformat(), "turns": [
            {"id": f"P:{i}", "speaker": "Ann" if i % 2 == 0 else "Bo", "text": _one_line(i)} for i in range(TURNS)]}]}
    result = CliRunner().invoke(app, ["ingest", str(write_native(tmp_path, doc, "long.json")), "--store", str(tmp_path / "store")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "extract long.json" in result.stderr and "store long.json" in result.stderr, result.stderr
    rows = {cells[0]: cells[1] for cells in (
        [c.strip() for c in line.strip("│ ").split("│")] for line in result.stdout.splitlines() if line.count("│") == 3)}
    assert rows["turns_added"] == str(TURNS)
