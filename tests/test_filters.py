"""Search filters (issue 17, item 7): ``search(..., speaker=, conversation=, session=)`` narrows
every strategy and unit, and ``k`` hits come back when ``k`` units match, also when the ANN index
alone would have offered too few of them. Two conversations on the real embedded store."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from conftest import CONTRACT_CONVERSATION
from samples import GARDEN, write_native
from typer.testing import CliRunner

from graphmem.cli import app
from graphmem.errors import InputError
from graphmem.memory import Memory
from graphmem.retrieve.config import RetrievalConfig
from graphmem.retrieve.types import validate_query
from graphmem.search import SearchService

STRATEGIES = ("auto", "dense", "lexical", "activation", "expansion")
UNITS = ("turn", "event", "episode", "session")
QUERY = "what happened with the garden, the kitchen and the cat"
FILTERS = [
    {"speaker": "alice"},  # case-insensitive
    {"conversation": "contract-maya-leo"},
    {"session": "2"},
    {"speaker": "Maya", "session": "1"},
]
MAYA = "contract-maya-leo"


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    directory = tmp_path_factory.mktemp("filters")
    store = str(directory / "store")
    with Memory.open(store, "filters") as memory:
        memory.ingest(write_native(directory, GARDEN, "garden.json"))
        memory.ingest(write_native(directory, CONTRACT_CONVERSATION, "maya.json"))
        yield memory, store


def _turns(memory: Memory) -> list[dict]:
    return memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace "
                         "RETURN t.id AS id, t.speaker AS speaker, t.conversation_id AS conversation, t.session_key AS session")


def _keeps(row: dict, filters: dict) -> bool:
    return ((filters.get("speaker") is None or row["speaker"].casefold() == filters["speaker"].casefold())
            and (filters.get("conversation") is None or row["conversation"] == filters["conversation"])
            and (filters.get("session") is None or row["session"] == filters["session"]))


def _expected(memory: Memory, unit: str, filters: dict) -> set[str]:
    """Ids of the units the filter keeps, from the store: turns (and their events) it keeps,
    and episodes and sessions holding such a turn."""
    kept = [r["id"] for r in _turns(memory) if _keeps(r, filters)]
    query = {
        "turn": "UNWIND $ids AS id MATCH (t:Turn {id: id}) RETURN DISTINCT t.id AS id",
        "event": "UNWIND $ids AS id MATCH (v:Event)-[:FROM]->(:Turn {id: id}) RETURN DISTINCT v.id AS id",
        "episode": "UNWIND $ids AS id MATCH (:Turn {id: id})-[:PART_OF]->(e:Episode) RETURN DISTINCT e.id AS id",
        "session": "UNWIND $ids AS id MATCH (:Turn {id: id})-[:IN]->(s:Session) RETURN DISTINCT s.id AS id",
    }[unit]
    return {r["id"] for r in memory.cypher(query, {"ids": kept})}


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("unit", UNITS)
def test_every_strategy_and_unit_returns_only_what_the_filter_keeps(two, strategy, unit):
    memory, _ = two
    for filters in FILTERS:
        expected = _expected(memory, unit, filters)
        hits = memory.search(QUERY, k=4, unit=unit, strategy=strategy, **filters)
        assert hits, (filters, "no hit")
        assert {h.node_id for h in hits} <= expected, filters
        if strategy in ("auto", "dense"):  # every kept unit has a score: k come back when k match
            assert len(hits) == min(4, len(expected)), filters
        if unit in ("turn", "event"):
            assert all(_keeps({"speaker": h.speaker, "conversation": h.conversation_id, "session": h.session_key}, filters)
                       for h in hits)
        assert all(h.explanation.get("filter") == filters for h in hits)


@pytest.mark.parametrize("unit", UNITS)
def test_dense_with_a_filter_ranks_every_unit_it_keeps(two, unit):
    memory, _ = two
    filters = {"conversation": MAYA, "session": "2"}
    hits = memory.search(QUERY, k=50, unit=unit, strategy="dense", **filters)
    assert {h.node_id for h in hits} == _expected(memory, unit, filters)


def test_filters_over_fetch_past_the_ann_candidates(two, embedder):
    """With the ANN path forced and only 3 candidates, an unfiltered search sees the garden
    turns only; the filtered one still returns k of Maya's turns, by exact scores within it."""
    memory, _ = two
    config = replace(RetrievalConfig(), exact_limit=1, candidates=3, coarse_candidates=1)
    service = SearchService(memory.store, embedder, memory.settings, memory.namespace, config=config)
    query = "tomatoes basil slugs copper tape in the raised beds"
    plain = service.search(validate_query(query, 3, "turn", "dense"))
    assert {h.conversation_id for h in plain} == {"garden-chat"}
    maya = service.search(validate_query(query, 4, "turn", "dense", speaker="Maya"))
    assert len(maya) == 4 and {h.speaker for h in maya} == {"Maya"}
    exact = memory.search(query, k=4, strategy="dense", speaker="Maya")  # the exact path agrees
    assert [h.node_id for h in maya] == [h.node_id for h in exact]


def test_a_filter_that_keeps_nothing_gives_no_hits_and_bad_values_are_refused(two):
    memory, _ = two
    assert memory.search(QUERY, k=3, speaker="Nobody") == []
    assert memory.search(QUERY, k=3, conversation=MAYA, session="9") == []
    for bad in ({"speaker": ""}, {"conversation": 3}, {"session": "  "}):
        with pytest.raises(InputError, match="filter must be a non-empty string"):
            memory.search(QUERY, k=3, **bad)


def test_the_cli_filters(two):
    _, store = two
    runner = CliRunner()
    result = runner.invoke(app, ["search", QUERY, "--store", store, "--namespace", "filters", "-k", "3", "--speaker", "Leo",
                                 "--conversation", MAYA, "--session", "2", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert len(hits) == 2 and {(h["speaker"], h["conversation_id"], h["session_key"]) for h in hits} == {("Leo", MAYA, "2")}
    bad = runner.invoke(app, ["search", QUERY, "--store", store, "--namespace", "filters", "--speaker", ""])
    assert bad.exit_code == 2 and "speaker filter" in bad.stderr


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_excluded_memories_never_come_back_and_k_still_does(two, strategy):
    """exclude: the turns a prompt holds already (the one just added, the recent window) never come
    back, nor their events; an episode or session still does through its other turns; k hits come
    back whenever k units are left. Ids of any unit may be excluded; unknown ids change nothing."""
    memory, _ = two
    top = [h.node_id for h in memory.search(QUERY, k=3, strategy=strategy)]
    hits = memory.search(QUERY, k=3, strategy=strategy, exclude=top[:2] + ["turn:unknown"])
    assert hits and not {h.node_id for h in hits} & set(top[:2])
    if strategy in ("auto", "dense"):
        assert len(hits) == 3
    assert all(h.explanation.get("filter") == {"exclude": "3 ids"} for h in hits)
    events = memory.cypher("UNWIND $ids AS id MATCH (v:Event)-[:FROM]->(:Turn {id: id}) RETURN v.id AS id", {"ids": top[:2]})
    event_hits = {h.node_id for h in memory.search(QUERY, k=50, unit="event", strategy=strategy, exclude=top[:2])}
    assert not event_hits & {r["id"] for r in events}
    episode = memory.search(QUERY, k=1, unit="episode", strategy=strategy)[0].node_id
    assert episode not in {h.node_id for h in memory.search(QUERY, k=50, unit="episode", strategy=strategy, exclude=episode)}
    with_turn_left_out = {h.node_id for h in memory.search(QUERY, k=50, unit="session", strategy="dense", exclude=top[:1])}
    assert with_turn_left_out == _expected(memory, "session", {})  # every session keeps other turns


def test_exclude_combines_with_filters_and_bad_values_are_refused(two):
    memory, _ = two
    alice = memory.search(QUERY, k=2, speaker="alice")
    rest = memory.search(QUERY, k=50, speaker="alice", exclude=[h.node_id for h in alice])
    assert rest and {h.speaker.casefold() for h in rest} == {"alice"} and not {h.node_id for h in alice} & {h.node_id for h in rest}
    assert len(rest) == len(_expected(memory, "turn", {"speaker": "alice"})) - 2
    for bad, expected in ((3, "exclude must be a node id"), ([""], r"exclude\[0\]"), ([7], r"exclude\[0\]"),
                          (["t"] * 10_001, "at most 10000")):
        with pytest.raises(InputError, match=expected):
            memory.search(QUERY, k=3, exclude=bad)
    assert [h.node_id for h in memory.search(QUERY, k=3, exclude=[])] == [h.node_id for h in memory.search(QUERY, k=3)]


def test_a_session_past_midnight_is_found_on_both_days(memory_factory):
    """A session was filtered by its start alone: one sitting from 23:50 to 01:10 was not found for
    the day most of it was said on, though its turns and its episode were."""
    memory = memory_factory()
    memory.add([{"role": "user", "content": "Planning my trip to Lisbon.", "timestamp": "2024-03-09T23:50:00"},
                {"role": "user", "content": "I booked the flight to Lisbon for April.", "timestamp": "2024-03-10T00:20:00"},
                {"role": "user", "content": "And a hotel in Alfama for Lisbon.", "timestamp": "2024-03-10T01:10:00"}],
               conversation="c")
    for day in (("2024-03-09", "2024-03-09"), ("2024-03-10", "2024-03-10")):
        assert memory.search("Lisbon", k=5, unit="episode", time_range=day), day
        assert len(memory.search("Lisbon", k=5, unit="session", time_range=day)) == 1, day
    assert not memory.search("Lisbon", k=5, unit="session", time_range=("2024-03-11", None))
    assert not memory.search("Lisbon", k=5, unit="session", time_range=(None, "2024-03-08"))


def test_a_speaker_is_one_name_in_any_unicode_form(memory_factory):
    """"Zoë" typed precomposed and decomposed were two speakers to the filter (half her messages), and
    speaker="ilker" did not find "İlker" (casefold gives i and a combining dot)."""
    import unicodedata

    memory = memory_factory()
    memory.add([{"speaker": "Zoë", "text": "I adopted a grey kitten called Mochi."},
                {"speaker": unicodedata.normalize("NFD", "Zoë"), "text": "Mochi the kitten sleeps on my desk."},
                {"speaker": "İlker", "text": "My kitten is called Pamuk and he is white."}], conversation="c")
    for name in ("Zoë", unicodedata.normalize("NFD", "Zoë"), "ZOË"):
        hits = memory.search("kitten", k=5, speaker=name)
        assert {h.text for h in hits} == {"I adopted a grey kitten called Mochi.", "Mochi the kitten sleeps on my desk."}, name
    for name in ("ilker", "İlker", "ILKER"):
        assert [h.speaker for h in memory.search("kitten", k=5, speaker=name)] == ["İlker"], name
