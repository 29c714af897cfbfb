"""The ingestion pipeline end to end on the real embedded store and model: episodes, events,
entities with aliases, associations and topics (issues 4 and 5)."""

from __future__ import annotations

import json
import logging
import random

import pytest

from conftest import settings_for
from samples import write_native

from graphmem import Memory

CHAT = {
    "id": "club-chat",
    "speakers": ["Melanie", "Caroline", "José"],
    "sessions": [
        {"id": "1", "started_at": "2023-05-08T13:56:00", "turns": [
            {"id": "C1:1", "speaker": "Caroline", "text": "Hey Mel! I went to a pottery class yesterday and made a bowl."},
            {"id": "C1:2", "speaker": "Melanie", "text": "Haha, nice!"},
            {"id": "C1:3", "speaker": "Melanie", "text": "I painted a sunrise over the lake last Saturday."},
            {"id": "C1:4", "speaker": "José", "text": "Olá! I flew back from São Paulo two weeks ago, the street food was amazing."},
            {"id": "C1:5", "speaker": "Caroline", "text": "The pottery teacher says my glazing technique is improving."},
            {"id": "C1:6", "speaker": "Melanie", "text": "Pottery sounds relaxing, I should join a pottery class too."},
        ]},
        {"id": "2", "started_at": "2023-06-20T10:00:00", "turns": [
            {"id": "C2:1", "speaker": "José", "text": "My football team won the regional cup final on Sunday."},
            {"id": "C2:2", "speaker": "Caroline", "text": "Congrats José! Who scored the winning goal in the final?"},
            {"id": "C2:3", "speaker": "José", "text": "Our striker scored in extra time, the stadium went wild."},
            {"id": "C2:4", "speaker": "Melanie", "text": "Caroline, did you finish another bowl at the pottery studio? Your pottery glazing is great."},
            {"id": "C2:5", "speaker": "Caroline", "text": "Yes, I glazed two pottery bowls in blue at the pottery studio yesterday."},
        ]},
    ],
}


@pytest.fixture(scope="module")
def memory(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pipeline")
    mem = Memory.open(directory / "store", namespace="pipeline")
    first = dict(CHAT, sessions=CHAT["sessions"][:1])
    mem.ingest(write_native(directory, first, "first.json"))
    mem.first_episodes = {r["id"] for r in mem.cypher("MATCH (e:Episode) WHERE e.namespace = $namespace RETURN e.id AS id")}
    mem.report = mem.ingest(write_native(directory, CHAT, "full.json"))
    mem.source = write_native(directory, CHAT, "again.json")
    yield mem
    mem.close()


def rows(memory, query, **params):
    return memory.cypher(query, params)


def test_every_turn_is_in_exactly_one_episode_and_episodes_are_chained(memory):
    part_of = rows(memory, "MATCH (t:Turn)-[:PART_OF]->(e:Episode) WHERE t.namespace = $namespace "
                           "RETURN t.source_id AS turn, count(e) AS n")
    assert len(part_of) == 11 and all(r["n"] == 1 for r in part_of)
    episodes = rows(memory, "MATCH (e:Episode) WHERE e.namespace = $namespace "
                            "RETURN e.id AS id, e.session_number AS s, e.started_at AS t0, e.embedding AS v ORDER BY e.start_seq")
    assert {e["s"] for e in episodes} == {1, 2}  # sessions always end episodes
    assert all(len(e["v"]) == 384 and e["t0"] for e in episodes)
    nexts = rows(memory, "MATCH (a:Episode)-[:NEXT]->(b:Episode) WHERE a.namespace = $namespace RETURN count(*) AS n")
    assert nexts[0]["n"] == len(episodes) - 1


def test_appending_a_session_keeps_the_old_episodes(memory):
    now = {r["id"] for r in rows(memory, "MATCH (e:Episode) WHERE e.namespace = $namespace RETURN e.id AS id")}
    assert memory.first_episodes and memory.first_episodes < now
    assert memory.report.turns_added == 5


def test_fillers_yield_no_event_and_events_point_to_their_turn(memory):
    events = rows(memory, "MATCH (e:Event)-[:FROM]->(t:Turn) WHERE e.namespace = $namespace "
                          "RETURN t.source_id AS turn, e.text AS text, e.speaker AS speaker")
    by_turn = {}
    for e in events:
        by_turn.setdefault(e["turn"], []).append(e["text"])
    assert "C1:2" not in by_turn  # "Haha, nice!"
    assert any("pottery class yesterday" in t for t in by_turn["C1:1"])
    assert not any(t.startswith("Hey Mel") for t in by_turn["C1:1"])


def test_relative_dates_are_resolved_against_the_session_date(memory):
    events = {r["expr"]: r for r in rows(memory, "MATCH (e:Event) WHERE e.namespace = $namespace AND e.time_expression IS NOT NULL "
                                                "RETURN e.time_expression AS expr, e.time_start AS start, e.time_end AS end")}
    assert events["yesterday"]["start"] in {"2023-05-07", "2023-06-19"}
    assert events["last Saturday"]["start"] == "2023-05-06"
    assert events["two weeks ago"]["start"] <= "2023-04-24" <= events["two weeks ago"]["end"]


def test_speakers_are_canonical_entities_with_nicknames_as_aliases(memory):
    people = rows(memory, "MATCH (n:Entity) WHERE n.namespace = $namespace AND n.label = 'PERSON' RETURN n.key AS key")
    keys = [p["key"] for p in people]
    assert keys.count("melanie") == 1 and keys.count("caroline") == 1 and keys.count("josé") + keys.count("jose") == 1
    alias = rows(memory, "MATCH (a:Entity)-[r:ALIAS_OF]->(c:Entity) WHERE a.namespace = $namespace "
                         "RETURN a.key AS alias, c.key AS canonical, r.reason AS reason")
    assert {"alias": "mel", "canonical": "melanie", "reason": "nickname"} in alias
    # the event that says "Hey Mel" involves Melanie (through the alias), and Caroline as speaker
    involved = rows(memory, "MATCH (e:Event)-[r:INVOLVES]->(n:Entity) WHERE e.namespace = $namespace AND e.text CONTAINS 'pottery class yesterday' "
                            "RETURN n.key AS key, r.role AS role")
    assert {"key": "caroline", "role": "speaker"} in involved


def test_no_two_entities_share_a_normalised_name(memory):
    counts = rows(memory, "MATCH (n:Entity) WHERE n.namespace = $namespace RETURN n.key AS key, count(*) AS n")
    assert counts and all(c["n"] == 1 for c in counts)


def test_repeated_subject_is_associated_across_sessions(memory):
    links = rows(memory, "MATCH (a:Turn)-[r:ASSOCIATED]->(b) WHERE a.namespace = $namespace AND a.source_id = 'C2:5' "
                         "RETURN coalesce(b.session_number, b.number) AS s, coalesce(b.source_id, '') AS target, coalesce(b.text, '') AS text, r.w AS w")
    assert links, "the pottery turn of session 2 has no association"
    assert all(link["s"] == 1 for link in links)  # historical units only, never its own session
    assert any("pottery" in link["text"].lower() for link in links)
    turn_targets = [link for link in links if link["target"]]
    assert turn_targets and not any("São Paulo" in link["text"] for link in turn_targets)
    assert all(0 < link["w"] <= 1 for link in links)


def test_topics_exist_for_every_granularity_with_labels(memory):
    topics = rows(memory, "MATCH (t:Topic) WHERE t.namespace = $namespace RETURN t.granularity AS g, t.label AS label, t.size AS size")
    assert {t["g"] for t in topics} == {"turn", "event", "episode", "session"}
    assert all(t["label"] and t["size"] >= 1 for t in topics)
    members = rows(memory, "MATCH (u:Turn)-[r:IN_TOPIC]->(t:Topic) WHERE u.namespace = $namespace RETURN count(DISTINCT u) AS n, min(r.p) AS p")
    assert members[0]["n"] == 11 and members[0]["p"] > 0


def test_reingest_changes_no_node_edge_topic_or_association(memory):
    before = memory.stats()
    report = memory.ingest(memory.source)
    assert report.turns_added == 0
    assert memory.stats() == before


def test_recluster_replaces_topics_atomically_and_deterministically(memory):
    first = memory.recluster()
    topics_1 = sorted((r["g"], r["label"]) for r in rows(memory, "MATCH (t:Topic) WHERE t.namespace = $namespace RETURN t.granularity AS g, t.label AS label"))
    assert set(first) == {"turn", "event", "episode", "session"}
    assert len(topics_1) == sum(first.values())
    memory.recluster()
    topics_2 = sorted((r["g"], r["label"]) for r in rows(memory, "MATCH (t:Topic) WHERE t.namespace = $namespace RETURN t.granularity AS g, t.label AS label"))
    assert topics_1 == topics_2
    orphans = rows(memory, "MATCH (u:Turn) WHERE u.namespace = $namespace AND NOT (u)-[:IN_TOPIC]->(:Topic) RETURN count(u) AS n")
    assert orphans[0]["n"] == 0
    assert memory.stats()["topics"] == first
    # the new topics' hierarchy is linked from every unit: each event topic lies within a turn
    # topic, each turn topic within an episode topic, each episode topic within a session topic
    within = rows(memory, "MATCH (a:Topic)-[r:WITHIN]->(b:Topic) WHERE a.namespace = $namespace "
                          "RETURN a.id AS a, a.granularity AS child, b.granularity AS parent, r.w AS w")
    assert {(r["child"], r["parent"]) for r in within} == {("event", "turn"), ("turn", "episode"), ("episode", "session")}
    children = rows(memory, "MATCH (t:Topic) WHERE t.namespace = $namespace AND t.granularity <> 'session' RETURN t.id AS id")
    assert {r["a"] for r in within} == {r["id"] for r in children} and all(0 < r["w"] <= 1 for r in within)


def test_report_counts_stages(memory):
    data = memory.report.to_dict()
    assert data["created"]["episodes"] >= 1 and data["created"]["events"] >= 4
    assert data["units_embedded"]["turn"] == 5
    assert {"embed", "segment", "extract", "cluster", "write"} <= set(data["stage_seconds"])
    json.dumps(data)


def test_one_ingest_embeds_its_conversations_turns_together_and_respects_a_repeated_key(tmp_path):
    """Records of one ingest are embedded in one call per wave; a record repeating an earlier
    key (here: the first session, then the whole conversation) waits for that commit, so the
    graph is the one ingesting them one after the other gives (topics aside: they are placed
    once per ingest call)."""
    from dataclasses import replace

    from graphmem.ingest import IngestPipeline
    from graphmem.loaders import load

    [record] = load(write_native(tmp_path, CHAT, "chat.json"))
    other = replace(record, key="club-chat-copy")
    waves: list[list[int]] = []
    original = IngestPipeline._prepare_wave

    def recording(self, records, start, *args, **kwargs):
        wave = original(self, records, start, *args, **kwargs)
        waves.append([len(p.texts) for p in wave])
        return wave

    IngestPipeline._prepare_wave = recording
    try:
        with Memory.open(tmp_path / "together", namespace="waves") as together:
            together.ingest([replace(record, sessions=record.sessions[:1]), record, other])
            counts = together.stats()
    finally:
        IngestPipeline._prepare_wave = original
    # wave 1: session 1 of club-chat (6 new turns); wave 2: the rest of club-chat (5) with the copy (11)
    assert waves == [[6], [5, 11]]
    with Memory.open(tmp_path / "apart", namespace="waves") as apart:
        apart.ingest([replace(record, sessions=record.sessions[:1])])
        apart.ingest([record])
        apart.ingest([other])
        separate = apart.stats()

    def graph(stats):  # topics are placed once per ingest call, so they may differ between 1 and 3 calls
        return ({k: v for k, v in stats["nodes"].items() if k != "Topic"},
                {k: v for k, v in stats["relationships"].items() if k not in ("IN_TOPIC", "WITHIN")})

    assert graph(separate) == graph(counts)
    assert counts["relationships"]["IN_TOPIC"] >= sum(counts["nodes"][k] for k in ("Turn", "Event", "Episode", "Session"))


def test_a_fresh_ingest_opens_its_indexes_before_committing_and_they_hold_every_stored_vector(tmp_path):
    """The ANN indexes an ingest adds to are opened before its first commit (empty), so that
    commit's vectors go in once from memory instead of being read back from the store; each
    index then holds exactly the units of its kind that the store holds, and search finds them."""
    with Memory.open(tmp_path / "store", namespace="fresh") as memory:
        memory.ingest(write_native(tmp_path, CHAT, "chat.json"))
        caches = memory._service().caches  # noqa: SLF001 - inspecting the cache owner
        assert {unit: caches.index_states.get(unit) for unit in ("turn", "event", "episode", "session")} == {
            "turn": "empty", "event": "empty", "episode": "empty", "session": "empty"}
        for unit, label in (("turn", "Turn"), ("event", "Event"), ("episode", "Episode"), ("session", "Session")):
            stored = {r["id"] for r in memory.cypher(f"MATCH (n:{label}) WHERE n.namespace = $namespace RETURN n.id AS id")}
            index = caches.index(unit)
            assert stored and len(index) == len(stored) and all(index.contains(node) for node in stored), unit
        hits = memory.search("glazed pottery bowls in blue", k=1, strategy="dense")
        assert hits and hits[0].text.startswith("Yes, I glazed two pottery bowls")


def _ingested_topics(directory, namespace, records):
    """Ingest ``records`` into a new store; its topics ``(granularity, label, size)`` and
    memberships ``(unit, granularity, label, p)``, sorted."""
    with Memory.open(directory, namespace=namespace) as memory:
        memory.ingest(records)
        nodes = sorted((r["g"], r["label"], r["size"]) for r in memory.cypher(
            "MATCH (t:Topic) WHERE t.namespace = $namespace RETURN t.granularity AS g, t.label AS label, t.size AS size"))
        members = sorted((r["u"], r["g"], r["label"], round(r["p"], 6)) for r in memory.cypher(
            "MATCH (u)-[m:IN_TOPIC]->(t:Topic) WHERE t.namespace = $namespace "
            "RETURN u.id AS u, t.granularity AS g, t.label AS label, m.p AS p"))
    return nodes, members


def test_topics_fitted_while_the_last_commit_runs_are_the_ones_place_would_fit(tmp_path):
    """The ingest fits the topics of its new units while its last transaction commits
    (``ClusteringStage.prefit``); place takes those models instead of fitting again, and the
    topics and memberships are exactly those an ingest without the early fit writes."""
    from dataclasses import replace

    from graphmem.cluster import TopicModel
    from graphmem.ingest.clustering import ClusteringStage
    from graphmem.loaders import load

    [record] = load(write_native(tmp_path, CHAT, "chat.json"))
    records = [record, replace(record, key="club-chat-copy")]
    fits: list[int] = []
    original_fit = TopicModel._fit_checked  # fit, and fit_models side by side

    def counting_fit(self, embeddings, *args, **kwargs):
        fits.append(len(embeddings))
        return original_fit(self, embeddings, *args, **kwargs)

    def topics(directory):
        return _ingested_topics(directory, "early", records)

    TopicModel._fit_checked = counting_fit
    try:
        early = topics(tmp_path / "early")
        fitted_early = list(fits)
        fits.clear()
        original_prefit = ClusteringStage.prefit
        ClusteringStage.prefit = lambda self, fresh, speakers=(), fitting=None, pause=None: True
        try:
            late = topics(tmp_path / "late")
        finally:
            ClusteringStage.prefit = original_prefit
    finally:
        TopicModel._fit_checked = original_fit
    assert early == late
    assert {g for g, _, _ in early[0]} == {"turn", "event", "episode", "session"}
    # one fit per granularity either way: place took the four models fitted early
    assert len(fitted_early) == len(fits) == 4 and sorted(fitted_early) == sorted(fits)


@pytest.mark.parametrize("ahead", ["read", "failed"])
def test_the_reads_place_starts_with_are_done_in_the_writer_thread_after_the_last_commit(tmp_path, ahead):
    """The units without a topic, the stored models, and the unit ids and parents of the
    granularities fitted ahead are read in the writer thread once the last commit is in (not
    before it), beside the fits (``ClusteringStage.read_ahead``); place takes those rows instead of reading again,
    and the topics and memberships are those of an ingest whose place reads them itself. When
    the read ahead fails, place reads them itself."""
    import threading
    from dataclasses import replace

    from graphmem.ingest.clustering import ClusteringStage
    from graphmem.loaders import load
    from graphmem.store.embedded import EmbeddedStore

    [record] = load(write_native(tmp_path, CHAT, "chat.json"))
    records = [record, replace(record, key="club-chat-copy")]
    reads: list[tuple[str, str]] = []
    original = (EmbeddedStore.read, ClusteringStage.read_ahead, EmbeddedStore.write)
    committed: list[int] = []  # conversations committed when each placing read ran
    conversations = [0]

    def recorded_read(self, name, params=None):
        reads.append((name, threading.current_thread().name))
        if name.startswith(("read/unplaced_", "read/topic_parents_")):
            committed.append(conversations[0])
        return original[0](self, name, params)

    def counted_write(self, statements):
        tallied = original[2](self, statements)
        conversations[0] += any(name == "write/merge_turns" for name, _ in statements)
        return tallied

    def failing_read_ahead(self, refit=()):
        raise RuntimeError("the read ahead failed")

    def topics(directory, read_ahead):
        ClusteringStage.read_ahead = read_ahead
        try:
            return _ingested_topics(directory, "ahead", records)
        finally:
            ClusteringStage.read_ahead = original[1]

    EmbeddedStore.read, EmbeddedStore.write = recorded_read, counted_write
    try:
        with_reads = topics(tmp_path / "ahead", original[1] if ahead == "read" else failing_read_ahead)
        placing = [(name, thread) for name, thread in reads if name.startswith(("read/unplaced_", "read/topic_parents_"))]
        reads.clear()
        itself = topics(tmp_path / "itself", lambda self, refit=(): {})
    finally:
        EmbeddedStore.read, EmbeddedStore.write = original[0], original[2]
    assert committed[:7] == [2] * 7  # the first ingest's placing reads, each after both conversations' commits
    assert with_reads == itself and {g for g, _, _ in itself[0]} == {"turn", "event", "episode", "session"}
    writer = {thread for _, thread in placing if thread.startswith("graphmem-ingest-write")}
    if ahead == "read":  # each read once, in the writer thread: place took the rows
        assert sorted(name for name, _ in placing) == sorted(
            [f"read/unplaced_{u}" for u in ("turn", "event", "episode", "session")]
            + [f"read/topic_parents_{u}" for u in ("event", "turn", "episode")]) and len(writer) == 1
        assert all(thread.startswith("graphmem-ingest-write") for _, thread in placing)
    else:  # place read them itself
        assert not writer and len(placing) == 7


def test_turn_topics_are_fitted_while_the_ingest_waits_for_a_commit(tmp_path):
    """With every new turn embedded, the turn topics are fitted while the next conversation
    waits for the previous one's commit, not at the end; the end fits the other three
    granularities, and place takes all four models (the topics equal those of an ingest
    that fits them all in place, see the test above)."""
    import threading
    from dataclasses import replace

    from graphmem.cluster import TopicModel
    from graphmem.ingest.clustering import ClusteringStage
    from graphmem.loaders import load
    from graphmem.store.embedded import EmbeddedStore

    [record] = load(write_native(tmp_path, CHAT, "chat.json"))
    records = [record, replace(record, key="club-chat-copy")]
    first_write_started, first_write_released = threading.Event(), threading.Event()
    prefits: list[tuple[list[str], bool]] = []
    fits: list[int] = []
    original = (EmbeddedStore.write, ClusteringStage.prefit, TopicModel._fit_checked)  # fit, and fit_models side by side

    def held_write(self, statements):
        # the first conversation's commit, in the writer thread, lasts until the turn topics are fitted
        if threading.current_thread().name.startswith("graphmem-ingest-write") and not first_write_started.is_set():
            first_write_started.set()
            first_write_released.wait(timeout=60)
        return original[0](self, statements)

    def watched_prefit(self, fresh, speakers=(), fitting=None, pause=None):
        prefits.append((sorted(fresh), first_write_started.is_set() and not first_write_released.is_set()))
        try:
            return original[1](self, fresh, speakers, fitting, pause)
        finally:
            first_write_released.set()

    def counting_fit(self, embeddings, *args, **kwargs):
        fits.append(len(embeddings))
        return original[2](self, embeddings, *args, **kwargs)

    EmbeddedStore.write, ClusteringStage.prefit, TopicModel._fit_checked = held_write, watched_prefit, counting_fit
    try:
        with Memory.open(tmp_path / "store", namespace="idle") as memory:
            memory.ingest(records)
            turns = memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN count(t) AS n")[0]["n"]
            placed = memory.cypher("MATCH (t:Turn)-[:IN_TOPIC]->(:Topic) WHERE t.namespace = $namespace "
                                   "RETURN count(DISTINCT t) AS n")[0]["n"]
    finally:
        EmbeddedStore.write, ClusteringStage.prefit, TopicModel._fit_checked = original
    assert prefits[0] == (["turn"], True)  # during the first commit
    assert len(prefits) == 2 and "turn" in prefits[1][0]  # the end: given every granularity, fits the other three
    assert len(fits) == 4 and fits[0] == turns == 2 * sum(len(s["turns"]) for s in CHAT["sessions"])
    assert placed == turns


def test_a_turn_fit_in_a_commits_wait_stops_when_the_commit_ends_and_goes_on_from_its_mixtures(tmp_path):
    """The turn topics fitted in the wait for a commit stop between two mixtures once that
    transaction has ended (the wait is over), and go on later from the mixtures they have: no
    mixture is fitted twice, and the topics are those of an ingest that fits them at the end."""
    import threading
    from dataclasses import replace

    import graphmem.cluster.topics as topics
    from graphmem.ingest.clustering import ClusteringStage
    from graphmem.ingest.pipeline import IngestPipeline
    from graphmem.loaders import load
    from graphmem.store.embedded import EmbeddedStore

    [record] = load(write_native(tmp_path, CHAT, "chat.json"))
    records = [replace(record, key=f"club-chat-{n}") for n in range(4)]  # 44 turns: three mixtures to try
    turns = 4 * sum(len(s["turns"]) for s in CHAT["sessions"])
    flights: list = []
    mixtures: list[tuple[int, int]] = []
    turn_prefits: list[bool] = []
    turn_fit_started = threading.Event()
    original = (IngestPipeline._submit_write, topics._fit_mixture, ClusteringStage.prefit, EmbeddedStore.write)

    def recorded_submit(self, statements, flight):
        flights.append(flight)
        return original[0](self, statements, flight)

    def held_write(self, statements):
        # the first commit lasts until the turn fit is under way in the wait for it
        if threading.current_thread().name.startswith("graphmem-ingest-write") and len(flights) == 1:
            turn_fit_started.wait(60)
        return original[3](self, statements)

    def slow_mixture(z, k, cfg):
        mixtures.append((len(z), k))
        if len(z) == turns:
            turn_fit_started.set()
            if len([m for m in mixtures if m[0] == turns]) == 2:
                flights[0].written.wait(60)  # the first commit ends while the turn fit is under way
        return original[1](z, k, cfg)

    def recorded_prefit(self, fresh, speakers=(), fitting=None, pause=None):
        done = original[2](self, fresh, speakers, fitting, pause)
        if sorted(fresh) == ["turn"]:
            turn_prefits.append(done)
        return done

    IngestPipeline._submit_write, topics._fit_mixture, ClusteringStage.prefit, EmbeddedStore.write = (
        recorded_submit, slow_mixture, recorded_prefit, held_write)
    try:
        paused = _ingested_topics(tmp_path / "paused", "paused", records)
    finally:
        IngestPipeline._submit_write, topics._fit_mixture, ClusteringStage.prefit, EmbeddedStore.write = original
    ClusteringStage.prefit = lambda self, fresh, speakers=(), fitting=None, pause=None: True
    try:
        at_the_end = _ingested_topics(tmp_path / "end", "paused", records)
    finally:
        ClusteringStage.prefit = original[2]
    assert turn_prefits[0] is False  # stopped in the first wait
    turn_mixtures = [k for n, k in mixtures if n == turns]
    assert len(turn_mixtures) > 2 and len(turn_mixtures) == len(set(turn_mixtures))  # each count once
    assert paused == at_the_end and {g for g, _, _ in paused[0]} == {"turn", "event", "episode", "session"}


def test_turn_topics_wait_for_the_end_when_only_the_index_adds_of_a_commit_remain(tmp_path):
    """The wait for a commit takes the turn fit only while the transaction itself runs: once it
    has ended, the index adds the writer thread does after it end soon, and the fit would hold
    up the ingest instead (it then runs at the end, beside the other granularities)."""
    import threading
    import time
    from dataclasses import replace

    from graphmem.caches import NamespaceCaches
    from graphmem.ingest.clustering import ClusteringStage
    from graphmem.ingest.events import EventStage
    from graphmem.loaders import load
    from graphmem.store.embedded import EmbeddedStore

    [record] = load(write_native(tmp_path, CHAT, "chat.json"))
    records = [record, replace(record, key="club-chat-copy")]
    original = (NamespaceCaches._apply, ClusteringStage.prefit, EmbeddedStore.write, EventStage._analyse)
    prefits: list[list[str]] = []
    analysed: list[str] = []
    slept: list[bool] = []
    first_written = threading.Event()

    def slow_apply(self, vectors):
        if threading.current_thread().name.startswith("graphmem-ingest-write") and not slept:
            slept.append(True)
            time.sleep(1.5)  # the first commit's index adds outlast the next conversation's analysis
        return original[0](self, vectors)

    def watched_prefit(self, fresh, speakers=(), fitting=None, pause=None):
        prefits.append(sorted(fresh))
        return original[1](self, fresh, speakers, fitting, pause)

    def watched_write(self, statements):
        done = original[2](self, statements)
        if threading.current_thread().name.startswith("graphmem-ingest-write"):
            first_written.set()
        return done

    def analyse_after_the_first_transaction(self, conversation_key, *args, **kwargs):
        analysed.append(conversation_key)
        if len(analysed) == 2:
            assert first_written.wait(timeout=60)
        return original[3](self, conversation_key, *args, **kwargs)

    NamespaceCaches._apply, ClusteringStage.prefit, EmbeddedStore.write, EventStage._analyse = (
        slow_apply, watched_prefit, watched_write, analyse_after_the_first_transaction)
    try:
        with Memory.open(tmp_path / "store", namespace="index-wait") as memory:
            memory.ingest(records)
            assert memory.check().ok
    finally:
        NamespaceCaches._apply, ClusteringStage.prefit, EmbeddedStore.write, EventStage._analyse = original
    assert slept and analysed == ["club-chat", "club-chat-copy"] and prefits == [["episode", "event", "session", "turn"]]


def test_topics_are_fitted_on_a_grown_sessions_new_mean_even_while_its_commit_runs(tmp_path):
    """A re-ingest that appends turns to a stored session gives the session a new mean in the
    conversation's transaction; the session topics, fitted while that transaction commits,
    take the new mean (not the one a read during the commit finds)."""
    import threading

    import numpy as np

    from graphmem.ingest import IngestPipeline
    from graphmem.ingest.clustering import ClusteringStage
    from graphmem.loaders import load
    from graphmem.store.embedded import EmbeddedStore

    [first] = load(write_native(tmp_path, CHAT, "chat.json"))
    grown = json.loads(json.dumps(CHAT))
    grown["sessions"][1]["turns"] += [
        {"id": "C2:6", "speaker": "José", "text": "Next season we play in the national league, against teams from Lisbon."},
        {"id": "C2:7", "speaker": "Melanie", "text": "I will come to every home game and bring a painted banner."}]
    grown["sessions"].append({"id": "3", "started_at": "2023-07-02T09:00:00", "turns": [
        {"id": "C3:1", "speaker": "Caroline", "text": "The pottery studio opens a summer course on raku firing."}]})
    [second] = load(write_native(tmp_path, grown, "grown.json"))
    writing, released = threading.Event(), threading.Event()
    seen: list[tuple[list[str], np.ndarray]] = []
    original = (EmbeddedStore.write, ClusteringStage.prefit, ClusteringStage._stored_units)

    def held_write(self, statements):
        if threading.current_thread().name.startswith("graphmem-ingest-write"):
            writing.set()
            released.wait(timeout=60)
        return original[0](self, statements)

    def prefit_during_the_commit(self, fresh, speakers=(), fitting=None, pause=None):
        try:
            assert writing.is_set() and not released.is_set()
            return original[1](self, fresh, speakers, fitting, pause)
        finally:
            released.set()

    def watched_units(self, unit, dimension):
        ids, vectors, texts = original[2](self, unit, dimension)
        if unit == "session":
            seen.append((list(ids), vectors.copy()))
        return ids, vectors, texts

    with Memory.open(tmp_path / "store", namespace="grown") as memory:
        # the first version stored without topics, so this ingest fits the session topics
        IngestPipeline(memory._store, memory._embedder, memory._settings, memory.namespace).run([first])  # noqa: SLF001
        EmbeddedStore.write, ClusteringStage.prefit, ClusteringStage._stored_units = held_write, prefit_during_the_commit, watched_units
        try:
            report = memory.ingest([second])
        finally:
            EmbeddedStore.write, ClusteringStage.prefit, ClusteringStage._stored_units = original
        assert report.turns_added == 3
        stored = {r["id"]: np.asarray(r["embedding"], dtype=np.float32) for r in memory.cypher(
            "MATCH (s:Session) WHERE s.namespace = $namespace RETURN s.id AS id, s.embedding AS embedding")}
    # the prefit's read (the two stored sessions, one of them grown; the new one comes from the
    # ingest itself) and place's (all three)
    assert len(stored) == 3 and [len(ids) for ids, _ in seen] == [2, 3]
    for ids, vectors in seen:
        for node, vector in zip(ids, vectors):
            np.testing.assert_allclose(vector, stored[node], atol=1e-6)


def _ingest_failing(memory, records, patch, error, match) -> dict[str, int]:
    """Ingest ``records`` with ``patch`` ``(owner, attribute, replacement)`` in place, expecting
    ``error``; returns the turns then stored per conversation."""
    owner, attribute, replacement = patch
    original = getattr(owner, attribute)
    setattr(owner, attribute, replacement)
    try:
        with pytest.raises(error, match=match):
            memory.ingest(records)
    finally:
        setattr(owner, attribute, original)
    return {r["key"]: r["turns"] for r in memory.cypher(
        "MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.conversation_id AS key, count(t) AS turns")}


def test_a_failed_conversation_write_stops_the_ingest_and_leaves_the_earlier_commits_whole(tmp_path):
    """Conversations are written in a writer thread while the next is derived; when one's
    transaction fails, the ingest raises that error, nothing of it or of the conversations
    after it is stored, the ones before stay whole, and no writer thread is left running."""
    import threading
    from dataclasses import replace

    from graphmem.errors import StorageError
    from graphmem.loaders import load
    from graphmem.store.embedded import EmbeddedStore

    [record] = load(write_native(tmp_path, CHAT, "chat.json"))
    records = [record, replace(record, key="copy-2"), replace(record, key="copy-3")]
    original_write = EmbeddedStore.write

    def failing_write(self, statements):
        if any(name == "write/merge_conversations" and params["rows"][0]["props"]["key"] == "copy-2"
               for name, params in statements):
            raise StorageError("disk full while writing copy-2")
        return original_write(self, statements)

    with Memory.open(tmp_path / "store", namespace="failing") as memory:
        stored = _ingest_failing(memory, records, (EmbeddedStore, "write", failing_write), StorageError, "copy-2")
        assert not [t for t in threading.enumerate() if t.name.startswith("graphmem-ingest-write")]
        assert stored == {"club-chat": 11}
        report = memory.check()
        assert report.ok, report.summary()
        again = memory.ingest(records)  # the rest goes in on a re-run
        assert again.turns_added == 22


def test_a_commits_vectors_go_into_the_indexes_in_the_writer_thread_and_their_failure_stops_the_ingest(tmp_path):
    """The writer thread puts a commit's vectors into the ANN indexes right after the commit
    (the ingest's thread analyses the next conversation meanwhile). When that fails, the
    ingest raises the error in its own thread after counting the commit; nothing later is
    written, and the indexes, dropped, are read back from the store whole at their next use."""
    import threading
    from dataclasses import replace

    from graphmem.caches import NamespaceCaches
    from graphmem.loaders import load

    [record] = load(write_native(tmp_path, CHAT, "chat.json"))
    records = [record, replace(record, key="copy-2"), replace(record, key="copy-3")]
    original = NamespaceCaches._apply
    threads: list[str] = []

    def failing(self, vectors):
        threads.append(threading.current_thread().name)
        if len(threads) == 2:  # part of copy-2's vectors in, then a failure
            original(self, {unit: pair for unit, pair in vectors.items() if unit == "event"})
            raise OSError("no space left for the index of copy-2")
        return original(self, vectors)

    with Memory.open(tmp_path / "store", namespace="index-failing") as memory:
        stored = _ingest_failing(memory, records, (NamespaceCaches, "_apply", failing), OSError, "copy-2")
        assert threads and all(name.startswith("graphmem-ingest-write") for name in threads)
        assert stored == {"club-chat": 11, "copy-2": 11}
        caches = memory._service().caches  # noqa: SLF001 - inspecting the cache owner
        for unit, label in (("turn", "Turn"), ("event", "Event"), ("session", "Session")):
            stored = {r["id"] for r in memory.cypher(f"MATCH (n:{label}) WHERE n.namespace = $namespace RETURN n.id AS id")}
            index = caches.index(unit)
            assert len(index) == len(stored) and all(index.contains(node) for node in stored), unit
        assert memory.ingest(records).turns_added == 11
        report = memory.check()
        assert report.ok, report.summary()


def test_a_correction_in_a_batch_waits_for_the_conversation_written_before_it(tmp_path):
    """One ingest of a new conversation and a re-sent one with a changed message: the new one's
    transaction is still running when the correction is found; the correction is applied after
    that commit, and the store holds both conversations whole with the message replaced. The
    turn topics are fitted on the corrected text (not ahead of the correction, while the new
    conversation's commit runs: a corrected turn keeps its id, so place could not tell)."""
    from dataclasses import replace

    from graphmem.cluster import TopicModel
    from graphmem.ingest import IngestPipeline
    from graphmem.loaders import load

    [record] = load(write_native(tmp_path, CHAT, "chat.json"))
    changed = json.loads(json.dumps(CHAT))
    changed["sessions"][1]["turns"][2]["text"] = "Our striker scored a header in extra time, the stadium went wild."
    [edited] = load(write_native(tmp_path, changed, "edited.json"))
    fitted: list[list[str]] = []
    original_fit = TopicModel._fit_checked  # fit, and fit_models side by side

    def recording_fit(self, embeddings, texts, extra_stopwords):
        fitted.append(list(texts or []))
        return original_fit(self, embeddings, texts, extra_stopwords)

    with Memory.open(tmp_path / "store", namespace="batch-correction") as memory:
        # the first conversation stored without topics, so the ingest below fits the turn topics
        IngestPipeline(memory._store, memory._embedder, memory._settings, memory.namespace).run([record])  # noqa: SLF001
        TopicModel._fit_checked = recording_fit
        try:
            report = memory.ingest([replace(record, key="club-chat-copy"), edited])
        finally:
            TopicModel._fit_checked = original_fit
        assert (report.turns_added, report.turns_corrected) == (11, 1)
        [turn_texts] = [texts for texts in fitted if len(texts) == 22 and any("striker" in t for t in texts)]
        assert sum(t.startswith("Our striker scored a header") for t in turn_texts) == 1
        texts = {(r["key"], r["source"]): r["text"] for r in memory.cypher(
            "MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.conversation_id AS key, t.source_id AS source, t.text AS text")}
        assert len(texts) == 22
        assert texts[("club-chat", "C2:3")].startswith("Our striker scored a header")
        assert texts[("club-chat-copy", "C2:3")] == "Our striker scored in extra time, the stadium went wild."
        assert memory.check().ok


def _subjects_chat(conversation: str, subjects: tuple[str, ...], turns: int, rng: random.Random) -> dict:
    """Turns about ``subjects`` in turn, each with nonsense words said once, ten per session."""
    def word() -> str:
        return "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3))

    lines = [{"id": f"{conversation}:{i}", "speaker": ("Ann", "Bo")[i % 2],
              "text": f"About {subjects[i % len(subjects)]}: {word()} {word()} {word()}."} for i in range(turns)]
    return {"id": conversation, "speakers": ["Ann", "Bo"], "sessions": [
        {"id": str(k + 1), "started_at": f"2024-03-{k + 1:02d}T10:00:00", "turns": lines[10 * k:10 * (k + 1)]} for k in range(turns // 10)]}


def test_a_small_ingest_into_a_larger_memory_is_assigned_until_a_tenth_has_come(tmp_path, memory_factory):
    """A refit reads and fits every unit of a granularity, so a batch ingest considers one only
    once the units assigned since the fit (counted on the model's Topic) are a tenth of the
    fitted ones: before, each small ingest of a new subject refitted the whole memory."""
    rng = random.Random(7)
    count = ("MATCH (t:Topic) WHERE t.namespace = $namespace AND t.granularity = 'turn' AND t.index = 0 "
             "RETURN t.id AS id, t.assigned AS assigned")
    with memory_factory() as memory:
        memory.ingest(write_native(tmp_path, _subjects_chat("first", ("my garden", "the bakery"), 200, rng), "first.json"))
        [fitted] = memory.cypher(count)
        assert not fitted["assigned"]
        new = ("our jazz band rehearsal", "the harbour ferry", "quantum physics lectures")
        report = memory.ingest(write_native(tmp_path, _subjects_chat("second", new, 10, rng), "second.json"))
        assert "topics_turn" not in report.to_dict()["created"]  # 10 of 200: assigned
        assert memory.cypher(count) == [{"id": fitted["id"], "assigned": 10}]
        report = memory.ingest(write_native(tmp_path, _subjects_chat("third", new, 20, rng), "third.json"))
        assert report.to_dict()["created"].get("topics_turn", 0) > 1  # 30 of 200, and they do not fit: refitted
        [refitted] = memory.cypher(count)
        assert refitted["id"] != fitted["id"] and not refitted["assigned"]
        placed = memory.cypher("MATCH (u:Turn)-[:IN_TOPIC]->(:Topic) WHERE u.namespace = $namespace RETURN count(DISTINCT u) AS n")
        assert placed == [{"n": 230}]
        assert memory.check().ok


def test_a_refit_by_a_later_ingest_links_every_topic_into_the_hierarchy(tmp_path):
    """The second conversation's subjects do not fit the first one's topics: turns and events are
    refitted on both, and the new topics' WITHIN links come from every unit, not only from the
    second ingest's (before, the topics holding only the first conversation's units had none)."""
    rng = random.Random(5)
    with Memory.open(tmp_path / "store", "hierarchy", settings=settings_for(tmp_path)) as memory:
        memory.ingest(write_native(tmp_path, _subjects_chat("first", ("my garden", "the bakery"), 40, rng), "first.json"))
        report = memory.ingest(write_native(tmp_path, _subjects_chat(
            "second", ("our jazz band rehearsal", "the harbour ferry", "quantum physics lectures"), 60, rng), "second.json"))
        assert report.to_dict()["created"].get("topics_turn", 0) > 1, report.to_dict()  # refitted
        unlinked = memory.cypher("MATCH (t:Topic) WHERE t.namespace = $namespace AND t.granularity <> 'session' "
                                 "AND NOT (t)-[:WITHIN]->(:Topic) RETURN t.granularity AS g, t.size AS size")
        assert unlinked == []
        assert memory.check().ok


_SESSION_COUNTS = ("MATCH (s:Session) WHERE s.namespace = $namespace "
                   "RETURN s.conversation_id AS conversation, s.key AS session, s.placing AS placing ORDER BY conversation, session")
_LEDGER_STATE = "MATCH (m:ChangeMarker) WHERE m.namespace = $namespace RETURN m.placing_unknown AS unknown"


def test_a_batch_ingest_looks_for_units_without_a_topic_in_the_sessions_written_since(tmp_path, memory_factory, monkeypatch):
    """The topic-placement ledger: every write counts the sessions it writes units of, and a
    batch ingest's placing looks for units without a topic only in counted sessions (at 100,000
    turns, looking through every turn and episode took 2.7 s of each ingest), then settles them.
    A new namespace, and one a user's Cypher write touched, are looked through whole once."""
    rng = random.Random(11)
    with memory_factory() as memory:
        reads: list[tuple[str, dict]] = []
        read = memory.store.read

        def recorded(name, params=None):
            reads.append((name, dict(params or {})))
            return read(name, params)

        monkeypatch.setattr(memory.store, "read", recorded)

        def looks() -> dict[str, list]:
            """The placing's looks for units without a topic: read name -> the sessions named."""
            return {name: sorted(params.get("sessions", [])) for name, params in reads if name.startswith("read/unplaced_")}

        memory.ingest(write_native(tmp_path, _subjects_chat("first", ("my garden", "the bakery"), 60, rng), "first.json"))
        assert set(looks()) == {f"read/unplaced_{u}" for u in ("turn", "event", "episode", "session")}  # new: whole
        assert memory.cypher(_LEDGER_STATE) == [{"unknown": False}]
        assert {r["placing"] for r in memory.cypher(_SESSION_COUNTS)} == {0}

        memory.add({"speaker": "Ann", "text": "About my garden: the tomatoes came up this week."}, conversation="first", session="6")
        counted = [r for r in memory.cypher(_SESSION_COUNTS) if r["placing"]]
        assert [(r["conversation"], r["session"], r["placing"]) for r in counted] == [("first", "6", 1)]

        reads.clear()
        memory.ingest(write_native(tmp_path, _subjects_chat("second", ("my garden", "the bakery"), 20, rng), "second.json"))
        sessions = sorted(r["id"] for r in memory.cypher(
            "MATCH (s:Session) WHERE s.namespace = $namespace AND (s.conversation_id = 'second' OR s.key = '6') RETURN s.id AS id"))
        assert looks() == {f"read/unplaced_{u}_in_sessions": sessions for u in ("turn", "event", "episode", "session")}
        assert {r["placing"] for r in memory.cypher(_SESSION_COUNTS)} == {0}
        report = memory.check()
        assert report.ok and not report.unplaced

        memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace AND t.source_id = 'first:0' SET t.note = 'seen'", write=True)
        assert memory.cypher(_LEDGER_STATE) == [{"unknown": True}]  # a write that keeps no ledger
        reads.clear()
        memory.ingest(write_native(tmp_path, _subjects_chat("third", ("my garden", "the bakery"), 10, rng), "third.json"))
        assert set(looks()) == {f"read/unplaced_{u}" for u in ("turn", "event", "episode", "session")}  # whole again
        assert memory.cypher(_LEDGER_STATE) == [{"unknown": False}]
        report = memory.check()
        assert report.ok and not report.unplaced


def test_a_placing_settles_only_the_session_counts_it_read(tmp_path, memory_factory):
    """A session counted again after the placing read it (a live add committing in between) keeps
    its count, so the next placing still looks there; one read without a count (written before
    the ledger) is settled when it still has none."""
    rng = random.Random(12)
    with memory_factory() as memory:
        memory.ingest(write_native(tmp_path, _subjects_chat("chat", ("my garden",), 20, rng), "chat.json"))
        first, second = (r["id"] for r in memory.cypher(
            "MATCH (s:Session) WHERE s.namespace = $namespace RETURN s.id AS id ORDER BY s.number"))
        ns = memory.namespace
        mark = ("write/mark_sessions_placing", {"namespace": ns, "rows": [{"id": first}]})
        memory.store.write([mark, mark])
        memory.cypher("MATCH (s:Session {id: $id}) REMOVE s.placing", {"id": second}, write=True)

        def settle(node: str, seen: int) -> None:
            memory.store.write([("write/settle_sessions", {"namespace": ns, "rows": [{"id": node, "seen": seen}]})])

        def counts() -> dict[str, int | None]:
            return {r["id"]: r["placing"] for r in memory.cypher(
                "MATCH (s:Session) WHERE s.namespace = $namespace RETURN s.id AS id, s.placing AS placing")}

        assert counts() == {first: 2, second: None}
        settle(first, 1)  # read at 1, counted again since: kept
        settle(second, 0)
        assert counts() == {first: 2, second: None}
        settle(first, 2)
        settle(second, -1)
        assert counts() == {first: 0, second: 0}


def test_the_hierarchy_links_read_only_the_parents_of_the_refitted_units(tmp_path):
    """When only the granularity below is refitted, its topics' WITHIN links need the memberships
    of its units' parents only: read by id, they give the links a read of every parent gives."""
    from graphmem.cluster import link_hierarchy
    from graphmem.ingest.clustering import ClusteringStage

    rng = random.Random(13)
    with Memory.open(tmp_path / "store", "links", settings=settings_for(tmp_path)) as memory:
        memory.ingest(write_native(tmp_path, _subjects_chat("chat", ("my garden", "the bakery", "the ferry"), 60, rng), "chat.json"))
        stage = ClusteringStage(memory.store, lambda unit: None, tmp_path / "cache", "links", preload=False)
        events = stage._all_memberships("event", {}, {})
        parents = stage._parents("event")
        some = {node: parents[node] for node in events[0][::3]}  # a third of the events: fewer turns
        links = []
        for within in (None, set(some.values())):
            turn_ids, turn_m, turn_topics = stage._all_memberships("turn", {}, {}, within=within)
            row = {node: i for i, node in enumerate(turn_ids)}
            kept = [i for i, node in enumerate(events[0]) if node in some]
            mapping = [row[some[events[0][i]]] for i in kept]
            links.append(sorted((events[2][c], turn_topics[p], round(w, 12))
                                for c, p, w in link_hierarchy(events[1][kept], mapping, turn_m)))
            if within is not None:
                assert set(turn_ids) == set(some.values()) < set(parents.values())
        assert links[0] == links[1] and links[0]


def test_check_names_a_unit_without_a_topic_in_a_session_the_ledger_holds_settled(tmp_path, memory_factory):
    """A turn taken out of its topics by a write that did not count its session (damage: no batch
    ingest would look for it there) is named by ``check``; once the session is counted, the next
    ingest's placing finds it and places it again."""
    rng = random.Random(14)
    with memory_factory() as memory:
        memory.ingest(write_native(tmp_path, _subjects_chat("chat", ("my garden", "the bakery"), 30, rng), "chat.json"))
        assert memory.check().ok
        [turn] = memory.cypher("MATCH (t:Turn)-[:IN]->(s:Session) WHERE t.namespace = $namespace AND t.source_id = 'chat:13' "
                               "RETURN t.id AS id, s.id AS session")
        ns = memory.namespace
        memory.store.write([("write/clear_turn_topics", {"namespace": ns, "rows": [{"id": turn["id"]}]})])
        report = memory.check()
        assert report.problems == {"unplaced_outside_the_ledger": [turn["id"]]}
        assert "graphmem recluster places them" in report.summary() and "in no topic yet" not in report.summary()
        memory.store.write([("write/mark_sessions_placing", {"namespace": ns, "rows": [{"id": turn["session"]}]})])
        assert memory.check().ok
        memory.ingest(write_native(tmp_path, _subjects_chat("later", ("the bakery",), 10, rng), "later.json"))
        report = memory.check()
        assert report.ok and not report.unplaced


def test_a_unit_left_without_a_topic_whose_embedding_is_malformed_is_left_out_of_the_placing(tmp_path, memory_factory, caplog):
    """Damage and a crash together: a turn an interrupted ingest left without a topic, whose stored
    embedding another tool then broke. The next ingest places the other units and leaves that one
    out with a warning naming it (the placing read converted it unchecked and failed in numpy);
    ``check`` names it."""
    rng = random.Random(16)
    with memory_factory() as memory:
        memory.ingest(write_native(tmp_path, _subjects_chat("chat", ("my garden", "the bakery"), 30, rng), "chat.json"))
        [turn] = memory.cypher("MATCH (t:Turn)-[:IN]->(s:Session) WHERE t.namespace = $namespace AND t.source_id = 'chat:13' "
                               "RETURN t.id AS id, s.id AS session")
        ns = memory.namespace
        memory.store.write([("write/clear_turn_topics", {"namespace": ns, "rows": [{"id": turn["id"]}]}),
                            ("write/mark_sessions_placing", {"namespace": ns, "rows": [{"id": turn["session"]}]})])
        memory.cypher("MATCH (t:Turn {source_id: 'chat:13'}) WHERE t.namespace = $namespace SET t.embedding = [0.5, 0.25]",
                      write=True)
        with caplog.at_level(logging.WARNING, logger="graphmem.ingest.clustering"):
            memory.ingest(write_native(tmp_path, _subjects_chat("later", ("the bakery",), 10, rng), "later.json"))
        assert any(turn["id"] in r.getMessage() and "left without a topic" in r.getMessage() for r in caplog.records)
        assert memory.check().problems.get("malformed_embeddings") == [turn["id"]]
        assert len(memory.cypher("MATCH (t:Turn {conversation_id: 'later'}) WHERE t.namespace = $namespace RETURN t.id AS id")) == 10


def test_an_imported_namespace_is_looked_through_whole_at_its_next_ingest(tmp_path):
    """An import writes units without counting their sessions (its dump may come from any store):
    it marks the namespace's ledger unknown, so the next batch ingest looks through every unit, and
    the ledger is whole again after it."""
    rng = random.Random(15)
    settings = settings_for(tmp_path)
    with Memory.open(tmp_path / "source", "src", settings=settings) as source:
        source.ingest(write_native(tmp_path, _subjects_chat("chat", ("my garden", "the bakery"), 30, rng), "chat.json"))
        source.export(tmp_path / "dump.jsonl.gz")
    with Memory.open(tmp_path / "target", "src", settings=settings) as target:
        target.import_dump(tmp_path / "dump.jsonl.gz")
        assert target.cypher(_LEDGER_STATE) == [{"unknown": True}]
        target.ingest(write_native(tmp_path, _subjects_chat("later", ("the bakery",), 10, rng), "later.json"))
        assert target.cypher(_LEDGER_STATE) == [{"unknown": False}]
        report = target.check()
        assert report.ok and not report.unplaced


def test_a_ledger_naming_more_sessions_than_the_bound_looks_through_the_namespace_whole(tmp_path, monkeypatch):
    """Past :data:`~graphmem.ingest.clustering.LEDGER_SESSIONS` counted sessions, looking in each
    costs more than looking through every unit once: the placing looks through the namespace whole,
    and still settles the counted sessions."""
    import graphmem.ingest.clustering as clustering

    rng = random.Random(16)
    with Memory.open(tmp_path / "store", "bound", settings=settings_for(tmp_path)) as memory:
        memory.ingest(write_native(tmp_path, _subjects_chat("first", ("my garden",), 20, rng), "first.json"))
        monkeypatch.setattr(clustering, "LEDGER_SESSIONS", 1)
        reads: list[str] = []
        read = memory.store.read
        monkeypatch.setattr(memory.store, "read", lambda name, params=None: (reads.append(name), read(name, params))[1])
        memory.ingest(write_native(tmp_path, _subjects_chat("second", ("my garden",), 20, rng), "second.json"))  # 2 sessions
        assert {name for name in reads if name.startswith("read/unplaced_")} == {
            f"read/unplaced_{u}" for u in ("turn", "event", "episode", "session")}
        assert {r["placing"] for r in memory.cypher(_SESSION_COUNTS)} == {0}
        report = memory.check()
        assert report.ok and not report.unplaced
