"""One cache owner per namespace follows the store: another writer's commits are caught up
with incrementally from the change marker's log, or rebuilt from the store when the log
cannot say what changed (two Memory objects on one embedded store: each is the other's
"other process"; tests/test_follow.py does the same with two processes over Bolt)."""

from __future__ import annotations

import json

import pytest

from graphmem import Memory
from graphmem.changes import LOG_LENGTH, MAX_LOGGED_IDS, bump, marker_id, read_log, read_version
from graphmem.retrieve.loader import WriteScope

from conftest import settings_for

NS = "shared"


@pytest.fixture
def pair(tmp_path, embedder):
    a = Memory.open(tmp_path / "store", NS, settings=settings_for(tmp_path))
    b = Memory.attach(a.store, NS, settings=settings_for(tmp_path))
    try:
        yield a, b
    finally:
        b.close()
        a.close()


def _start(a: Memory) -> None:
    a.add([{"speaker": "Al", "text": "I repaired the fishing boat engine this morning.", "id": "m1"},
           {"speaker": "Al", "text": "Then we sailed out past the harbour wall.", "id": "m2"}], conversation="mine")
    assert a.search("fishing boat engine", k=2)[0].text.startswith("I repaired")


def test_another_writers_add_is_caught_up_incrementally(pair):
    a, b = pair
    _start(a)
    caches = a._service().caches  # noqa: SLF001 - inspecting the cache owner
    turn_index = caches.index("turn")
    turn = b.add({"speaker": "Bea", "text": "The lighthouse keeper painted the shutters turquoise."},
                 conversation="other").turn_ids[0]
    hits = a.search("lighthouse shutters turquoise", k=3)
    assert hits and hits[0].node_id == turn
    assert caches.last_follow["mode"] == "incremental" and caches.last_follow["transactions"] == 1
    assert caches.last_follow["vectors"] >= 2  # the turn, its session and episode (and events)
    assert caches.index("turn") is turn_index and turn_index.contains(turn)  # updated in place, not rebuilt
    assert any(h.node_id == turn for h in a.search("lighthouse", k=3, strategy="lexical"))
    assert a.check().ok


def test_another_writers_correction_replaces_what_search_sees(pair):
    a, b = pair
    _start(a)
    a.search("harbour", k=2, strategy="lexical")
    before = a.stats()["nodes"]["Turn"]
    b.add({"speaker": "Al", "text": "Then we rowed out to the lighthouse island.", "id": "m2"}, conversation="mine")
    assert a.stats()["nodes"]["Turn"] == before
    found = a.search("rowed lighthouse island", k=1, strategy="lexical")
    assert found and found[0].text == "Then we rowed out to the lighthouse island."
    assert all("harbour" not in h.text for h in a.search("harbour wall", k=5, strategy="lexical"))
    dense = a.search("rowing to the island", k=1, strategy="dense")
    assert dense[0].node_id == found[0].node_id


def test_a_long_absence_rebuilds_and_a_forget_is_caught_up_with(pair):
    a, b = pair
    _start(a)
    caches = a._service().caches  # noqa: SLF001
    for i in range(LOG_LENGTH + 2):  # more transactions than the log keeps
        b.add({"speaker": "Bea", "text": f"Note number {i}: the lighthouse lamp needs oil."}, conversation="other")
    assert any("lighthouse" in h.text for h in a.search("lighthouse lamp oil", k=3))
    assert caches.last_follow["mode"] == "rebuild"
    b.forget(conversation="other")
    for strategy in ("auto", "dense", "lexical"):
        assert all("lighthouse" not in h.text for h in a.search("lighthouse lamp oil", k=5, strategy=strategy))
    # the forget logs what it removed and recomputed: the forgotten units leave the indexes by id
    assert caches.last_follow["mode"] == "incremental" and caches.last_follow["vectors"] >= LOG_LENGTH + 2
    assert len(caches.index("turn")) == a.stats()["nodes"]["Turn"] == 2
    assert a.check().rebuilt == []


def test_saved_indexes_are_reused_only_at_the_version_they_reflect(tmp_path, embedder):
    settings = settings_for(tmp_path)
    with Memory.open(tmp_path / "store", NS, settings=settings) as a:
        _start(a)
    with Memory.open(tmp_path / "store", NS, settings=settings) as a:
        a.search("boat", k=1)
        assert a._service().caches.index_states["turn"] == "loaded"  # noqa: SLF001
        a.add({"speaker": "Al", "text": "Then we rowed out to the lighthouse island.", "id": "m2"}, conversation="mine")
        version = read_version(a.store, NS)
        a.store.write([bump(NS)])  # a writer without caches: the version moves, the counts do not
    with Memory.open(tmp_path / "store", NS, settings=settings) as a:
        a.search("boat", k=1)
        caches = a._service().caches  # noqa: SLF001
        assert read_version(a.store, NS) == version + 1
        assert caches.index_states["turn"] == "rebuilt"


def test_another_writers_correction_takes_the_replaced_events_out_of_the_index(pair):
    """A correction deletes the turn's old events; the writer takes them out of its ANN index,
    and a follower finds them gone from the store (logged as changed) and does the same, so
    neither index lists a unit the store no longer has and check rebuilds nothing."""
    a, b = pair
    _start(a)
    caches = a._service().caches  # noqa: SLF001
    events = caches.index("event")
    old = [r["id"] for r in a.cypher("MATCH (e:Event)-[:FROM]->(t:Turn {source_id: 'm1'}) "
                                     "WHERE e.namespace = $namespace RETURN e.id AS id")]
    assert old and all(events.contains(e) for e in old)
    fixed = b.add({"speaker": "Al", "text": "I repaired the harbour crane this morning.", "id": "m1"}, conversation="mine")
    assert fixed.corrected == 1
    assert a.search("harbour crane", k=1)[0].text == "I repaired the harbour crane this morning."
    assert caches.last_follow["mode"] == "incremental"
    assert not any(events.contains(e) for e in old)
    stored = a.cypher("MATCH (e:Event) WHERE e.namespace = $namespace RETURN count(e) AS n")[0]["n"]
    assert len(events) == stored
    report = a.check()
    assert report.ok and report.rebuilt == [], report.summary()


def test_a_patch_that_fails_leaves_the_projection_built_from_its_rows(tmp_path, embedder, monkeypatch, caplog):
    """The patched projection is an optimisation of a derived cache: a defect in it (here: an
    error raised) is logged, and the search after the add builds the projection from the rows."""
    from graphmem.retrieve import loader
    from graphmem.retrieve.loader import read_projection

    with Memory.open(tmp_path / "store", NS, settings=settings_for(tmp_path)) as a:
        _start(a)
        caches = a._service().caches  # noqa: SLF001
        monkeypatch.setattr(loader, "patched", lambda *args: 1 / 0)
        a.add({"speaker": "Al", "text": "The gulls followed us back to the pier."}, conversation="mine")
        with caplog.at_level("WARNING", logger="graphmem.retrieve.loader"):
            assert a.search("gulls pier", k=1)[0].text == "The gulls followed us back to the pier."
        assert caches.last_refresh["projection"] == "refreshed"
        assert "patching the projection failed" in caplog.text
        assert caches.engine().projection.turn_ids == read_projection(a.store, NS).turn_ids


def test_a_search_after_an_add_defers_saving_the_projection_to_close(tmp_path, embedder):
    """The first search after this owner's add rebuilds the projection from the store (re-reading
    the add's session) without reading the counts that validate a saved one or saving the new one; close saves it when
    nothing was written since it was read, and the next process reuses it; a projection
    older than the store is never saved."""
    settings = settings_for(tmp_path)
    with Memory.open(tmp_path / "store", NS, settings=settings) as a:
        _start(a)  # the first search builds the projection and saves it
        caches = a._service().caches  # noqa: SLF001
        saved = caches.directory / "projection.json"
        bm25 = caches.directory / "lexical" / "turn" / "graphmem_version.json"
        stamp, bm25_stamp = saved.stat().st_mtime_ns, bm25.stat().st_mtime_ns
        a.add({"speaker": "Al", "text": "The gulls followed us back to the pier."}, conversation="mine")
        hits = a.search("gulls pier", k=1)
        assert hits[0].text == "The gulls followed us back to the pier."
        assert caches.last_refresh["projection"] == "patched"  # the add's session re-read, the rest kept
        assert saved.stat().st_mtime_ns == stamp  # not written at the search after the add
        assert bm25.stat().st_mtime_ns == bm25_stamp  # nor the BM25 index
    assert bm25.stat().st_mtime_ns != bm25_stamp  # saved on close
    with Memory.open(tmp_path / "store", NS, settings=settings) as a:
        assert json.loads(bm25.read_text())["version"] == read_version(a.store, NS)  # as of the store: reused
        assert a.search("gulls pier", k=1)[0].node_id == hits[0].node_id
        assert a._service().caches.last_refresh["projection"] == "loaded"  # noqa: SLF001 - saved on close
        a.add({"speaker": "Al", "text": "We tied the boat up at dusk."}, conversation="mine")
        a.search("boat dusk", k=1)
        a.add({"speaker": "Al", "text": "Dinner was grilled mackerel."}, conversation="mine")  # after the last search
    with Memory.open(tmp_path / "store", NS, settings=settings) as a:
        assert a.search("grilled mackerel", k=1)[0].text == "Dinner was grilled mackerel."
        assert a._service().caches.last_refresh["projection"] == "rebuilt"  # noqa: SLF001 - the older one was not saved
        assert a.check().ok


def test_the_log_numbers_its_entries_and_says_full_when_it_cannot_list(tmp_path, embedder):
    with Memory.open(tmp_path / "store", NS, settings=settings_for(tmp_path)) as memory:
        store = memory.store
        store.write([bump(NS, writer="w1", changed=["turn:a", "turn:a", "event:b"], scope=WriteScope(frozenset({"session:2", "session:1"})))])
        store.write([bump(NS, writer="w2", changed=[f"turn:{i}" for i in range(MAX_LOGGED_IDS + 1)], scope=WriteScope(frozenset({"session:1"})))])
        store.write([bump(NS)])
        store.write([bump(NS, writer="w1", changed=["turn:c"], scope=WriteScope(frozenset({"session:3"}), frozenset({"event"})))])
        version, entries = read_log(store, NS)
        assert version == 4 and [e.version for e in entries] == [1, 2, 3, 4]
        # a topic fit: its sessions and granularity, under a key a reader that knows only sessions
        # ("s") does not read, so such a reader reads everything
        assert entries[3].scope == WriteScope(frozenset({"session:3"}), frozenset({"event"})) and not entries[3].full
        logged = json.loads(store.read("read/change_log", {"namespace": NS, "id": marker_id(NS)})[0]["log"][3])
        assert "s" not in logged and logged["r"] == {"s": ["session:3"], "g": ["event"]}, logged
        assert entries[0].scope == WriteScope(frozenset({"session:1", "session:2"})) and entries[1].scope is None
        # an entry naming a granularity no topic has (written by something else) reads everything
        store.write([bump(NS, writer="w1", changed=[], scope=WriteScope(frozenset({"session:3"}), frozenset({"galaxy"})))])
        assert read_log(store, NS)[1][-1].scope is None
        assert entries[0].writer == "w1" and entries[0].changed == ("turn:a", "event:b") and not entries[0].full
        assert entries[0].sessions == ("session:1", "session:2")  # a live add's sessions: readers re-read only them
        assert entries[1].full and entries[1].changed == () and entries[1].sessions is None  # full: readers read all
        assert entries[2].full and entries[2].writer is None and entries[2].sessions is None
        for _ in range(LOG_LENGTH):
            store.write([bump(NS, changed=[])])
        version, entries = read_log(store, NS)
        assert len(entries) == LOG_LENGTH and entries[-1].version == version == 5 + LOG_LENGTH
        assert not any(e.full for e in entries)


def test_a_live_writer_is_renewed_after_another_writers_commit_even_when_a_search_saw_it_first(pair):
    a, b = pair
    _start(a)
    writer = a._writer  # noqa: SLF001 - what the live writer kept may be stale after a foreign commit
    a.add({"speaker": "Al", "text": "The engine runs smoothly now."}, conversation="mine")
    assert a._writer is writer  # noqa: SLF001 - nothing foreign: kept
    b.add({"speaker": "Bea", "text": "Bea named the new boat Petrel."}, conversation="mine")
    a.search("Petrel", k=1)  # the search catches up first ...
    a.add({"speaker": "Al", "text": "Petrel is a good name for a boat."}, conversation="mine")
    assert a._writer is not writer  # noqa: SLF001 - ... and the next add still starts a fresh writer
    assert a.check().ok and a.stats()["nodes"]["Turn"] == 5


def test_a_cypher_write_is_seen_at_the_next_search_and_in_the_next_process(tmp_path, embedder):
    """A write through Memory.cypher cannot say what it changed, so it marks the namespace as
    wholly changed in its own transaction: this process rebuilds its caches before the next
    search, and no saved cache from before it is reused by the next process; a write that
    deletes the whole namespace leaves no marker behind."""
    settings = settings_for(tmp_path)
    with Memory.open(tmp_path / "store", NS, settings=settings) as a:
        _start(a)
        turn = a.search("fishing boat engine", k=1)[0]
        a.cypher("MATCH (t:Turn {id: $id}) SET t.text = $text", {"id": turn.node_id,
                 "text": "We caught three mackerel off the old pier."}, write=True)
        found = a.search("mackerel pier", k=1, strategy="lexical")
        assert found and found[0].node_id == turn.node_id
        assert a._service().caches.last_follow["mode"] == "rebuild"  # noqa: SLF001
    with Memory.open(tmp_path / "store", NS, settings=settings) as a:
        found = a.search("mackerel pier", k=1, strategy="lexical")
        assert found and found[0].node_id == turn.node_id
        assert all("repaired" not in h.text for h in a.search("fishing boat engine", k=2, strategy="lexical"))
        a.cypher("MATCH (n) WHERE n.namespace = $namespace DETACH DELETE n", write=True)
        assert read_version(a.store, NS) == 0  # the marker the write deleted is not created again
        assert a.search("mackerel pier", k=1, strategy="lexical") == []


COUNT_QUERIES = {"read/projection_node_counts", "read/projection_relationship_counts", "read/count_turns", "read/count_events",
                 "read/count_sessions", "read/count_episodes"}


def _recording(memory: Memory, monkeypatch) -> list[str]:
    """The names of the read queries ``memory``'s store runs from now on."""
    names: list[str] = []
    original = memory.store.read

    def read(name, params=None, *args, **kwargs):
        names.append(name)
        return original(name, params, *args, **kwargs)

    monkeypatch.setattr(memory.store, "read", read)
    return names


def test_a_new_process_trusts_caches_saved_at_the_markers_version_and_epoch_without_counting(tmp_path, embedder, monkeypatch):
    """Counting a namespace's nodes, relationships and embeddings took 5 s of a new process's
    first search at 100,000 turns; caches saved at the marker's version and epoch are the
    store's (every write bumps the marker), so they load without it."""
    settings = settings_for(tmp_path)
    with Memory.open(tmp_path / "store", NS, settings=settings) as memory:
        _start(memory)
    with Memory.open(tmp_path / "store", NS, settings=settings) as memory:
        names = _recording(memory, monkeypatch)
        assert memory.search("fishing boat engine", k=2)[0].text.startswith("I repaired")
        caches = memory._service().caches  # noqa: SLF001
        assert caches.last_refresh["projection"] == "loaded"
        assert set(caches.index_states.values()) == {"loaded"} and len(caches.index_states) == 4
        assert not COUNT_QUERIES & set(names), names


def test_caches_saved_under_a_marker_created_again_are_not_taken(tmp_path, embedder):
    """The namespace is wiped by a write graphmem cannot follow (the marker goes with it) and
    written anew with as many transactions: the versions match again, the marker's epoch does
    not, so what the first writing left in the cache is read again from the store."""
    settings = settings_for(tmp_path)
    with Memory.open(tmp_path / "store", NS, settings=settings) as memory:
        memory.add({"speaker": "Al", "text": "I repaired the fishing boat engine this morning.", "id": "m1"}, conversation="mine")
        assert memory.search("fishing boat engine", k=1)[0].text.startswith("I repaired")
        version = read_version(memory.store, NS)
        memory.cypher("MATCH (n) WHERE n.namespace = $namespace DETACH DELETE n", write=True)
        assert read_version(memory.store, NS) == 0
    with Memory.open(tmp_path / "store", NS, settings=settings) as memory:
        memory.add({"speaker": "Al", "text": "I painted the fishing boat hull this evening.", "id": "m1"}, conversation="mine")
        assert read_version(memory.store, NS) == version
    with Memory.open(tmp_path / "store", NS, settings=settings) as memory:
        hits = memory.search("fishing boat", k=3)
        assert [h.text for h in hits] == ["I painted the fishing boat hull this evening."]
        # the message kept its id, not its words: BM25 too is the new text's
        assert [h.text for h in memory.search("painted hull evening", k=3, strategy="lexical")] == [hits[0].text]
        assert all(h.score == 0 for h in memory.search("repaired engine morning", k=3, strategy="lexical"))
        assert memory._service().caches.last_refresh["projection"] == "rebuilt"  # noqa: SLF001
        report = memory.check()
        assert report.rebuilt == [], {u: (c.state, c.dangling, c.missing, c.wrong_vectors) for u, c in report.indexes.items()}


def test_a_bm25_index_saved_by_an_older_graphmem_is_built_again_on_read(tmp_path, embedder):
    """A saved index whose tokenizer reads words otherwise (saved before ``Tokenizer.scripts``) was
    trusted while the memory was only searched: queries were read the old way against it."""
    from pathlib import Path

    settings = settings_for(tmp_path)
    with Memory.open(tmp_path / "store", NS, settings=settings) as a:
        a.add([{"speaker": "Li", "text": "今天天气很好。"}, {"speaker": "Li", "text": "我妹妹在上海学习钢琴。"}], conversation="c")
        assert a.search("学习钢琴", k=1, strategy="lexical")[0].text == "我妹妹在上海学习钢琴。"
    saved = list(Path(tmp_path).rglob("graphmem_lexical.json"))
    assert saved
    for path in saved:  # as an older graphmem saved it: its tokenizer without "scripts"
        meta = json.loads(path.read_text(encoding="utf-8"))
        meta["tokenizer"].pop("scripts")
        path.write_text(json.dumps(meta), encoding="utf-8")
    with Memory.open(tmp_path / "store", NS, settings=settings) as a:
        hits = a.search("学习钢琴", k=1, strategy="lexical")
        assert hits and hits[0].text == "我妹妹在上海学习钢琴。" and hits[0].score > 0, hits


def test_a_projection_saved_by_an_earlier_graphmem_is_built_again_without_a_warning(tmp_path, embedder, caplog):
    """A store from before the last PROJECTION_VERSION bump (every upgrade across one): the first
    search logged 'projection cache ... unreadable' with a traceback, and check called the healthy
    store's cache 'unreadable (rebuilt)', as if it were damaged. It is stale, so it is built again
    quietly, as a cache of another change-marker version is."""
    import logging

    from graphmem.ids import namespace_slug
    from graphmem.retrieve.projection import PROJECTION_VERSION

    location, settings = tmp_path / "store", settings_for(tmp_path)
    with Memory.open(location, NS, settings=settings) as memory:
        _start(memory)
        before = [(h.node_id, round(h.score, 6)) for h in memory.search("fishing boat engine", k=2)]
        cache = memory.store.cache_dir(namespace_slug(NS))

    def as_an_earlier_graphmem_saved_it():
        meta = json.loads((cache / "projection.json").read_text(encoding="utf-8"))
        meta["version"] = PROJECTION_VERSION - 1
        (cache / "projection.json").write_text(json.dumps(meta), encoding="utf-8")

    as_an_earlier_graphmem_saved_it()
    caplog.set_level(logging.INFO, logger="graphmem")
    with Memory.open(location, NS, settings=settings) as memory:
        assert [(h.node_id, round(h.score, 6)) for h in memory.search("fishing boat engine", k=2)] == before
        assert memory._service().caches.last_refresh["projection"] == "rebuilt"  # noqa: SLF001
    assert json.loads((cache / "projection.json").read_text(encoding="utf-8"))["version"] == PROJECTION_VERSION
    as_an_earlier_graphmem_saved_it()
    with Memory.open(location, NS, settings=settings) as memory:
        report = memory.check()
        assert report.ok and report.caches_rebuilt == [] and "unreadable" not in report.summary(), report.summary()
        assert [(h.node_id, round(h.score, 6)) for h in memory.search("fishing boat engine", k=2)] == before
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], [r.getMessage() for r in caplog.records
                                                                            if r.levelno >= logging.WARNING]
    assert any("saved by another graphmem version" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("damage", ["empty", "cut short"])
def test_an_unreadable_projection_or_bm25_cache_is_rebuilt_by_search_and_by_check(tmp_path, embedder, damage):
    """An empty or cut-short projection.npz (a copy or restore cut short, a full disk) made every
    search fail for good (EOFError, BadZipFile: the loader caught only OSError, ValueError and
    KeyError), and check said clean without rebuilding it. Search now rebuilds it; check reads the
    projection and BM25 caches and rebuilds those it cannot read."""
    from graphmem.ids import namespace_slug
    from graphmem.retrieve.lexical import LexicalIndex
    from graphmem.retrieve.projection import MemoryProjection

    def spoil(path):
        path.write_bytes(b"" if damage == "empty" else path.read_bytes()[: path.stat().st_size // 2])

    location, settings = tmp_path / "store", settings_for(tmp_path)
    with Memory.open(location, NS, settings=settings) as memory:
        _start(memory)
        before = [(h.node_id, round(h.score, 6)) for h in memory.search("fishing boat engine", k=2)]
        cache = memory.store.cache_dir(namespace_slug(NS))
    assert (cache / "projection.npz").exists() and (cache / "lexical" / "turn" / "bm25s").is_dir()
    spoil(cache / "projection.npz")
    with Memory.open(location, NS, settings=settings) as memory:  # a search reads it afresh from the store
        assert [(h.node_id, round(h.score, 6)) for h in memory.search("fishing boat engine", k=2)] == before
    spoil(cache / "projection.npz")
    for saved in (cache / "lexical" / "turn" / "bm25s").iterdir():
        spoil(saved)
    with Memory.open(location, NS, settings=settings) as memory:
        report = memory.check()
        assert report.ok and report.caches_rebuilt == ["projection", "turn BM25"], report.summary()
        assert "unreadable projection, turn BM25" in report.summary()
        MemoryProjection.load(cache)  # readable again, and each is taken as it is
        LexicalIndex.load(cache / "lexical" / "turn")
        assert memory.check().caches_rebuilt == []
        assert [(h.node_id, round(h.score, 6)) for h in memory.search("fishing boat engine", k=2)] == before
        assert memory._service().caches.last_refresh["projection"] == "loaded"  # noqa: SLF001 - the rebuilt cache was taken


def test_a_small_namespace_holds_no_hnswlib_index_and_its_saved_vectors_come_back(tmp_path, embedder):
    """Each hnswlib index costs 2.7 MB resident however few vectors it holds, and every namespace
    built four (turn, event, episode, session): 10 MB per namespace a server had served. Up to
    RetrievalConfig.exact_limit units, where search scores every vector exactly anyway, the vectors
    are kept in numpy, saved, and loaded again in the next process's Memory."""
    from graphmem.caches import INDEXED_UNITS

    with Memory.open(tmp_path / "store", NS, settings=settings_for(tmp_path)) as memory:
        _start(memory)
        caches = memory._service().caches  # noqa: SLF001 - inspecting the cache owner
        indexes = {unit: caches.index(unit) for unit in INDEXED_UNITS}
        assert all(len(index) for index in indexes.values())
        assert not any(index.uses_hnswlib for index in indexes.values())
        before = [(h.node_id, h.score) for h in memory.search("sailing past the harbour", k=5)]
    with Memory.open(tmp_path / "store", NS, settings=settings_for(tmp_path)) as memory:
        caches = memory._service().caches  # noqa: SLF001
        assert [(h.node_id, h.score) for h in memory.search("sailing past the harbour", k=5)] == before
        assert {unit: caches.index_states.get(unit) for unit in INDEXED_UNITS} == dict.fromkeys(INDEXED_UNITS, "loaded")
        assert not any(caches.index(unit).uses_hnswlib for unit in INDEXED_UNITS)
        assert memory.check().ok
