"""Bad input (issue 8): every file of tests/bad_input/ is refused with a clear InputError
(nothing stored) or stored verbatim without touching anything else; hostile namespace
names; a 1 MB turn; property-based tests over the loaders and the ingest path."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from conftest import settings_for
from hypothesis import HealthCheck, given, settings, strategies as st
from samples import GARDEN, write_native

from graphmem import ConfigurationError, InputError, Memory
from graphmem.loaders import FORMATS, load
from graphmem.records import ConversationRecord

CORPUS = Path(__file__).resolve().parent / "bad_input"
EXPECTED: dict[str, str] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
FILES = sorted(p for p in CORPUS.iterdir() if p.is_file() and p.name not in ("expected.json", "README.md"))

HOSTILE = ["'}) DETACH DELETE n //", "`default` {namespace} $namespace", "x\" OR 1=1 --", "Zoë 🦊 \u202eevil\u200b",
           "default ", "DEFAULT"]  # the last two beside "default": namespaces are exact strings
TINY = {"id": "tiny", "sessions": [{"id": "1", "turns": [
    {"speaker": "Ann", "text": "The pottery kiln reached cone six overnight."},
    {"speaker": "Bo", "text": "Then the glaze should be glassy by now."}]}]}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store with a sentinel namespace whose counts must never change."""
    directory = tmp_path_factory.mktemp("bad-input")
    location, config = directory / "store", settings_for(directory)
    with Memory.open(location, "sentinel", settings=config) as sentinel:
        sentinel.ingest(write_native(directory, GARDEN))
        counts = sentinel.stats()
    yield location, config, counts, directory


def assert_sentinel_intact(store) -> None:
    location, config, counts, _ = store
    with Memory.open(location, "sentinel", settings=config) as sentinel:
        assert sentinel.stats() == counts


def stored_turns(memory: Memory) -> dict[tuple, dict]:
    rows = memory.cypher("MATCH (t:Turn)-[:IN]->(s:Session)-[:OF]->(c:Conversation) WHERE t.namespace = $namespace "
                         "RETURN c.key AS conversation, s.key AS session, t.index AS index, t.speaker AS speaker, "
                         "t.text AS text, t.caption AS caption, t.source_id AS source_id")
    return {(r["conversation"], r["session"], r["index"]): r for r in rows}


def assert_verbatim(memory: Memory, records: list[ConversationRecord]) -> None:
    """Every loaded turn is stored with byte-identical speaker, text, caption, source id and keys."""
    stored = stored_turns(memory)
    expected = {(r.key, s.key, i): t for r in records for s in r.sessions for i, t in enumerate(s.turns)}
    assert set(stored) == set(expected)
    for key, turn in expected.items():
        row = stored[key]
        for field in ("speaker", "text", "caption", "source_id"):
            value = getattr(turn, field)
            assert row[field] == value, (key, field)
            if value is not None:
                assert row[field].encode("utf-8") == value.encode("utf-8")


# ---------------------------------------------------------------------------- the corpus
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_corpus_file_is_refused_clearly_or_stored_verbatim(path, store):
    location, config, _, _ = store
    with Memory.open(location, f"bad-input:{path.name}", settings=config) as memory:
        try:
            records = load(path)
        except InputError as exc:
            outcome = "refused"
            # the message names the file, then the place (line:column or a JSON path) and the reason
            assert re.match(re.escape(str(path)) + r"(:\d+(:\d+)?)?: \S", str(exc)), str(exc)
            with pytest.raises(InputError):
                memory.ingest(path)
            assert memory.stats()["nodes"] == {}
        else:
            outcome = "stored"
            report = memory.ingest(path)
            assert report.turns_added == sum(r.turn_count for r in records)
            assert_verbatim(memory, records)
            text = next(t.text for r in records for s in r.sessions for t in s.turns)
            assert isinstance(memory.search(text, k=3), list)  # the stored text as a query is just text
            assert memory.check().ok
    assert EXPECTED.get(path.name, outcome) == outcome, f"{path.name} was {outcome}"
    assert_sentinel_intact(store)


def test_every_pinned_outcome_has_its_file():
    assert set(EXPECTED) <= {p.name for p in FILES}


def test_the_cli_refuses_a_bad_file_with_exit_code_2(store):
    from typer.testing import CliRunner

    from graphmem.cli import app

    location, _, _, _ = store
    result = CliRunner().invoke(app, ["ingest", str(CORPUS / "truncated.json"), "--store", str(location), "-n", "cli-bad"])
    assert result.exit_code == 2
    assert "truncated.json:1:" in " ".join(result.output.split())
    assert_sentinel_intact(store)


# ---------------------------------------------------------------------------- hostile namespaces, a 1 MB turn
def test_hostile_namespace_names_are_stored_verbatim_and_isolated(store):
    location, config, _, directory = store
    source = write_native(directory, TINY, "tiny.json")
    for bad in ("", "   ", "a\x00b", "x" * 257, None, 7, "n\ud800"):
        with pytest.raises(ConfigurationError):
            Memory.open(location, bad, settings=config)  # type: ignore[arg-type]
    for namespace in HOSTILE:
        with Memory.open(location, namespace, settings=config) as memory:
            memory.ingest(source)
            assert memory.stats()["nodes"]["Turn"] == 2
            assert memory.cypher("MATCH (n) WHERE n.namespace = $namespace RETURN DISTINCT n.namespace AS ns") == [{"ns": namespace}]
            assert memory.check().ok
    for namespace in HOSTILE:  # each holds only its own two turns
        with Memory.open(location, namespace, settings=config) as memory:
            assert memory.stats()["nodes"]["Turn"] == 2
    assert_sentinel_intact(store)


LONE = "\ud800"  # what JSON's "\\ud800" escape and a surrogateescape'd argv byte give


def test_a_lone_surrogate_anywhere_a_caller_passes_text_is_an_input_error_and_stores_nothing(store):
    """Before, a lone surrogate in an add's conversation key raised UnicodeEncodeError; in a query,
    TypeError from the tokenizer; in a forget, history, subgraph or Cypher argument, a StorageError
    (a store failure, exit 1) or worse."""
    location, config, _, directory = store
    with Memory.open(location, "surrogates", settings=config) as memory:
        memory.add([{"speaker": "Ann", "text": "I like green tea."}], conversation="c")
        before = memory.stats()
        calls = {
            "query": lambda: memory.search("tea " + LONE),
            "query:": lambda: memory.context(LONE + " tea"),
            "speaker filter": lambda: memory.search("tea", speaker="A" + LONE),
            "conversation": lambda: memory.add([{"speaker": "Ann", "text": "x"}], conversation="c" + LONE),
            "session": lambda: memory.add([{"speaker": "Ann", "text": "x"}], conversation="c", session=LONE),
            "messages[0].id": lambda: memory.add([{"speaker": "Ann", "text": "x", "id": "m" + LONE}], conversation="c"),
            "messages[0].caption": lambda: memory.add([{"speaker": "Ann", "text": "x", "caption": LONE}], conversation="c"),
            "messages[0].metadata.k": lambda: memory.add([{"speaker": "Ann", "text": "x", "metadata": {"k": LONE}}],
                                                         conversation="c"),
            "turn[0]": lambda: memory.forget(turn=["turn:" + LONE]),
            "turn_id": lambda: memory.history("turn:" + LONE),
            "entity": lambda: memory.to_networkx(entity=LONE),
            "params.x[0]": lambda: memory.cypher("RETURN $x AS x", {"x": [LONE]}),
        }
        for where, call in calls.items():
            with pytest.raises(InputError, match=re.escape(where)):
                call()
        assert memory.stats() == before and memory.check().ok
    assert_sentinel_intact(store)


def test_a_one_megabyte_turn_is_stored_verbatim(store):
    location, config, _, directory = store
    text = ""
    while len(text.encode("utf-8")) < 1 << 20:  # one long sentence: events come from its first part only
        text += "the violin case 🎻 sat beside Zoë’s cedar raised beds under a bright copper lamp "
    doc = {"id": "huge", "sessions": [{"id": "1", "turns": [
        {"speaker": "Ann", "text": "I am pasting the whole document."}, {"speaker": "Bo", "text": text}]}]}
    path = write_native(directory, doc, "huge.json")
    with Memory.open(location, "huge", settings=config) as memory:
        memory.ingest(path)
        stored = {r["index"]: r["text"] for r in stored_turns(memory).values()}
        assert stored[1] == text and len(stored[1].encode("utf-8")) >= 1 << 20
        assert memory.search("violin case beside the raised beds", k=2)
        assert memory.check().ok
    assert_sentinel_intact(store)


# ---------------------------------------------------------------------------- property-based: loaders
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | \
    st.sampled_from(["", "  ", "\ud800", "x\udfffy", "2024-01-01", "not a date", "\u202e", "🦊"])
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=16)
VALID_NATIVE = {"id": "c", "speakers": ["A"], "sessions": [{"id": "1", "started_at": "2024-01-02T10:00:00", "turns": [
    {"id": "t1", "speaker": "A", "text": "hello", "timestamp": "2024-01-02T10:00:00", "caption": "a cat"}]}]}
VALID_LOCOMO = [{"sample_id": "s", "conversation": {"speaker_a": "A", "speaker_b": "B", "session_1_date_time": "1:56 pm on 8 May, 2023",
                 "session_1": [{"speaker": "A", "dia_id": "D1:1", "text": "hi", "blip_caption": "a dog"}]}}]
VALID_JSONL = [{"speaker": "A", "text": "hi", "timestamp": "2024-01-02T10:00:00", "id": 1, "session": "1", "conversation": "c"}]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hypothesis")


def outcome_of(path: Path, fmt: str) -> str:
    """Load ``path``: anything but InputError fails the test; loaded records are ingestable."""
    try:
        records = load(path, fmt)
    except InputError as exc:
        assert str(exc).startswith(str(path))
        return "refused"
    for record in records:
        assert record.sessions
        for session in record.sessions:
            for turn in session.turns:
                assert turn.speaker.strip() and (turn.text.strip() or (turn.caption or "").strip())
                for value in (record.key, session.key, turn.speaker, turn.text, turn.caption, turn.source_id):
                    if value is not None:
                        value.encode("utf-8")  # storable
    return "loaded"


def mutate(doc, path: list, value, delete: bool):
    """A copy of ``doc`` with the node at ``path`` (indices into nested containers) replaced or deleted."""
    doc = json.loads(json.dumps(doc))
    node = doc
    for step in path[:-1]:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys or not isinstance(node[keys[step % len(keys)]], (dict, list)):
            break
        node = node[keys[step % len(keys)]]
    keys = list(node) if isinstance(node, dict) else list(range(len(node)))
    if keys:
        key = keys[path[-1] % len(keys)]
        if delete:
            del node[key]
        else:
            node[key] = value
    return doc


HYPOTHESIS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@HYPOTHESIS
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".json", ".jsonl", ".txt", ".json.gz", ""]),
       fmt=st.sampled_from(FORMATS))
def test_loaders_on_random_bytes(scratch, data, suffix, fmt):
    path = scratch / f"bytes{suffix}"
    path.write_bytes(data)
    outcome_of(path, fmt)


@HYPOTHESIS
@given(value=JSON_VALUES, suffix=st.sampled_from([".json", ".jsonl"]), fmt=st.sampled_from(FORMATS))
def test_loaders_on_random_json(scratch, value, suffix, fmt):
    path = scratch / f"value{suffix}"
    path.write_text(json.dumps(value), encoding="utf-8")
    outcome_of(path, fmt)


@HYPOTHESIS
@given(kind=st.sampled_from(["native", "locomo", "jsonl"]), where=st.lists(st.integers(0, 50), min_size=1, max_size=7),
       value=JSON_VALUES, delete=st.booleans())
def test_loaders_on_mutated_valid_documents(scratch, kind, where, value, delete):
    if kind == "jsonl":
        doc = mutate(VALID_JSONL, [0, *where], value, delete)
        path = scratch / "mutated.jsonl"
        path.write_text("\n".join(json.dumps(line) for line in doc) + "\n", encoding="utf-8")
    else:
        doc = mutate(VALID_NATIVE if kind == "native" else VALID_LOCOMO, where, value, delete)
        path = scratch / "mutated.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
    outcome_of(path, "auto")


@HYPOTHESIS
@given(lines=st.lists(st.text(max_size=40) | st.sampled_from(["# Session 2: 8 May 2023", "A: hi", "  continued", " : x"]),
                      max_size=8))
def test_loaders_on_random_transcripts(scratch, lines):
    path = scratch / "chat.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    outcome_of(path, "transcript")


# ---------------------------------------------------------------------------- property-based: ingest
NAMES = st.text(min_size=1, max_size=12).filter(str.strip)
TEXTS = st.text(min_size=1, max_size=60).filter(str.strip) | st.sampled_from(
    ["'}) DETACH DELETE n //", "MATCH (n) RETURN n", "🦊🦊", "\u202eevil\u202c", "a\u0000b", "`x` {y} $namespace"])


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(speakers=st.lists(NAMES, min_size=1, max_size=3), texts=st.lists(TEXTS, min_size=1, max_size=4),
       poison=st.booleans())
def test_ingest_stores_any_text_verbatim_or_refuses_it_whole(store, speakers, texts, poison):
    location, config, _, directory = store
    turns = [{"speaker": speakers[i % len(speakers)], "text": text} for i, text in enumerate(texts)]
    if poison:  # a lone surrogate anywhere refuses the whole file
        turns[-1]["text"] += "\ud800"
    doc = {"id": f"prop-{uuid.uuid4().hex[:8]}", "sessions": [{"id": "1", "turns": turns}]}
    path = directory / "prop.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with Memory.open(location, f"prop-{uuid.uuid4().hex}", settings=config) as memory:
        if poison:
            with pytest.raises(InputError):
                memory.ingest(path)
            assert memory.stats()["nodes"] == {}
            return
        memory.ingest(path)
        assert_verbatim(memory, load(path))
        assert memory.check().ok
