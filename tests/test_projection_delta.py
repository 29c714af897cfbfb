"""The projection after a live add or a forget re-reads only the sessions it wrote to
(graphmem.retrieve.loader.ProjectionRows.refreshed): after every step of a random sequence of
appends, new sessions, corrections, topic fits and forgotten messages, it equals a projection
read whole from the store, on each backend with the real embedding model; a second cache
owner's writes (another writer's, logged with their sessions) are followed the same way."""

from __future__ import annotations

import json
import random
from dataclasses import fields

import numpy as np

from conftest import Backend, memories, settings_for
from graphmem import Memory
from graphmem.retrieve.loader import read_projection
from graphmem.retrieve.projection import MemoryProjection

PEOPLE = ("Melanie", "Caroline", "Mel", "Jon", "Gina")
PLACES = ("Lisbon", "the Louvre in Paris", "Lake Tahoe", "Boston", "the Golden Gate Bridge")
THINGS = ("a pottery class", "a charity race", "an adoption agency", "a painting of a sunset", "a new violin")


def _message(rng: random.Random, n: int) -> str:
    person, place, thing = rng.choice(PEOPLE), rng.choice(PLACES), rng.choice(THINGS)
    return rng.choice((
        f"{person} went to {place} last Saturday and talked about {thing}.",
        f"Yesterday I signed up for {thing} with {person}; it starts in May.",
        f"Do you remember when {person} visited {place}? That was message {n}.",
        f"I finished {thing} near {place} two weeks ago, {person} helped a lot.",
    ))


def _same(a: MemoryProjection, b: MemoryProjection) -> list[str]:
    """The fields where ``a`` and ``b`` differ."""
    differ = []
    for f in fields(MemoryProjection):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            same = x.shape == y.shape and np.array_equal(x, y, equal_nan=x.dtype.kind == "f")
        else:
            same = x == y
        if not same:
            differ.append(f.name)
    return differ


def test_the_projection_after_each_add_equals_one_read_whole(backend: Backend, tmp_path, embedder):
    rng = random.Random(7)
    steps = 45 if backend.is_bolt else 70  # past the first topic fit (32 turns) on both
    with memories(backend, settings_for(tmp_path)) as open_memory:
        memory = open_memory()
        other = open_memory(memory.namespace)  # a second cache owner: its adds are another writer's
        caches = memory._service().caches
        foreign_states = []
        sent: dict[str, list[str]] = {"alpha": [], "beta": []}
        node_of: dict[str, str] = {}  # message id -> turn id
        states = []
        forgotten = 0
        for n in range(steps):
            conversation = rng.choice(("alpha", "alpha", "beta"))
            writer = other if rng.random() < 0.25 else memory
            session = str(1 + n // 12)  # a new session every 12 messages: the one before is closed
            if len(sent[conversation]) > 3 and rng.random() < 0.1:  # forget one message (or two)
                chosen = rng.sample(sent[conversation], rng.choice((1, 1, 2)))
                assert writer.forget(turn=[node_of[m] for m in chosen])["turns"] == len(chosen)
                sent[conversation] = [m for m in sent[conversation] if m not in chosen]
                forgotten += len(chosen)
            elif sent[conversation] and rng.random() < 0.12:  # a correction: a known id, other words
                message_id = rng.choice(sent[conversation])
                report = writer.add({"speaker": rng.choice(PEOPLE[:2]), "text": _message(rng, n), "id": message_id},
                                    conversation=conversation)
                assert report.corrected == 1, report
            else:
                message_id = f"{conversation}-{n}"
                messages = [{"speaker": rng.choice(PEOPLE[:2]), "text": _message(rng, n), "id": message_id}]
                if rng.random() < 0.2:  # two messages in one call
                    messages.append({"speaker": "assistant", "text": _message(rng, n + 1000), "id": f"{message_id}b"})
                report = writer.add(messages, conversation=conversation, session=session,
                                    session_started_at=f"2024-0{1 + int(session) % 9}-0{1 + n % 9}T10:00:00")
                assert report.added == len(messages), report
                sent[conversation].extend(m["id"] for m in messages)
                node_of.update(zip((m["id"] for m in messages), report.turn_ids))
            assert memory.search("Who went to Lisbon?", k=3)
            built = caches.engine().projection
            whole = read_projection(memory.store, memory.namespace)
            assert whole.n_turns == len({t for ids in sent.values() for t in ids})
            assert _same(built, whole) == [], (n, caches.last_refresh)
            states.append(caches.last_refresh["projection"])
            if writer is other:
                assert caches.last_follow, n
                foreign_states.append(caches.last_refresh["projection"])
        assert forgotten >= 3, forgotten
        # most adds, forgets and topic fits took the re-read of their sessions; the first search,
        # and a forget through a memory that never searched (no caches to log through), read everything
        assert states.count("patched") >= 0.7 * steps, states
        assert "rebuilt" in states[1:], states
        # the other owner's adds log their sessions: this owner re-reads only those too
        assert foreign_states.count("patched") >= 0.6 * len(foreign_states) > 0, foreign_states
        assert memory.cypher("MATCH (:Turn)-[r:IN_TOPIC]->(c:Topic) WHERE c.namespace = $namespace RETURN count(r) AS n")[0]["n"] > 0
        assert memory.cypher("MATCH (a)-[r:ASSOCIATED]->(b) WHERE a.namespace = $namespace RETURN count(r) AS n")[0]["n"] > 0
        assert len(caches.engine().projection.entity_ids) > 0
        # after all those adds and corrections the ANN indexes agree with the store: check rebuilds nothing
        report = memory.check()
        assert report.ok and report.rebuilt == [], report.summary()


def test_a_projection_loaded_from_the_cache_is_refreshed_from_the_rows_saved_beside_it(backend: Backend, tmp_path, embedder):
    """A new process (here: a new Memory) loads the saved projection; at its first write it reads
    the rows saved beside it instead of the whole namespace, and the result equals a whole
    read. Rows saved with another projection are not taken."""
    settings = settings_for(tmp_path)
    rng = random.Random(11)
    with memories(backend, settings) as open_memory:
        first = open_memory()
        for n in range(8):
            first.add({"speaker": rng.choice(PEOPLE[:2]), "text": _message(rng, n)}, conversation="alpha", session=str(1 + n // 4))
        assert first.search("Who went to Lisbon?", k=3)
        first.close()  # saves the projection (and its rows) as of the last write
        for round_ in range(2):
            memory = open_memory(first.namespace)
            caches = memory._service().caches
            assert memory.search("Who went to Lisbon?", k=3)
            assert caches.last_refresh["projection"] == "loaded"
            if round_:  # rows of another projection: not taken, the store is read
                rows_file = caches.directory / "projection_rows.json"
                saved = json.loads(rows_file.read_text(encoding="utf-8"))
                saved["manifest"]["version"] -= 1
                rows_file.write_text(json.dumps(saved), encoding="utf-8")
            memory.add({"speaker": "Melanie", "text": _message(rng, 100 + round_)}, conversation="alpha", session="2")
            assert memory.search("Who went to Lisbon?", k=3)
            assert caches.last_refresh["projection"] == ("rebuilt" if round_ else "patched")
            assert _same(caches.engine().projection, read_projection(memory.store, memory.namespace)) == []
            memory.close()


def _session_of_forty(memory: Memory, rng: random.Random):
    """Forty messages in one session of conversation ``chat``, searched once; the caches owner."""
    memory.add([{"speaker": PEOPLE[i % 2], "text": _message(rng, i), "id": f"m{i}"} for i in range(40)],
               conversation="chat", session="1")
    assert memory.search("Who went to Lisbon?", k=3)
    return memory._service().caches  # noqa: SLF001 - counting what the refresh reads


def test_an_append_reads_again_the_links_of_the_units_it_changed_not_of_its_whole_session(tmp_path, embedder):
    """After an add that only appends, the refresh reads the associations and topic memberships
    of the new turn (and of turns its open episode gave away), their events, the session's
    episodes and the session, not of every unit of the session: a search right after an add
    grew with the session's length (232 ms once it held 300 messages). A correction in the same
    session reads them all again. Either way the projection is the one read whole."""
    with Memory.open(tmp_path / "store", "long", settings=settings_for(tmp_path)) as memory:
        caches = _session_of_forty(memory, random.Random(3))
        asked: list[dict] = []
        turns_read: list[int] = []
        real_read = memory.store.read

        def read(query, params=None):
            rows = real_read(query, params)
            if query == "read/projection_delta_topic_members":
                asked.append(params)
            if query == "read/projection_delta_turns":
                turns_read.append(len(rows))
            return rows

        memory.store.read = read
        memory.add({"speaker": PEOPLE[0], "text": "I finished a new violin near Boston yesterday.", "id": "m40"},
                   conversation="chat", session="1")
        assert memory.search("violin Boston", k=3)
        assert caches.last_refresh["projection"] == "patched"
        appended = len(asked[-1]["turns"])
        assert _same(caches.engine().projection, read_projection(memory.store, memory.namespace)) == []
        # the session's first episode is closed now: the next append reads the turn rows of the
        # open episode and its own, not those before
        first = memory.cypher("MATCH (e:Episode) WHERE e.namespace = $namespace RETURN e.turn_count AS n ORDER BY e.start_seq")[0]["n"]
        memory.add({"speaker": PEOPLE[1], "text": "Which piece did you play on it first?", "id": "m41"}, conversation="chat", session="1")
        assert memory.search("violin Boston", k=3)
        assert caches.last_refresh["projection"] == "patched"
        appended_rows = turns_read[-1]
        assert _same(caches.engine().projection, read_projection(memory.store, memory.namespace)) == []
        memory.add({"speaker": PEOPLE[1], "text": "Actually it was a new cello, not a violin.", "id": "m40"}, conversation="chat")
        assert memory.search("cello", k=3)
        corrected, corrected_rows = len(asked[-1]["turns"]), turns_read[-1]
        assert _same(caches.engine().projection, read_projection(memory.store, memory.namespace)) == []
    # the new turn and the stored turns of the open episode the add segmented again (here 19
    # of them went to a new episode), not the session's 41; the turn rows from the open
    # episode's first turn on, where the correction reads the session's 42 whole
    assert 1 <= appended < 41 and corrected == 42, (appended, corrected)
    assert 1 < first < 42 and appended_rows == 42 - first and corrected_rows == 42, (first, appended_rows, corrected_rows)


def test_an_append_reads_again_the_entities_it_wrote_not_every_entity(tmp_path, embedder):
    """After an add that only appends, the refresh reads the entities the add merged and the
    aliases from them, not every entity of the namespace (47 ms for 4,956 on every search after
    an add), and keeps the topic rows when the add relabelled no topic (its new topic links are
    read from the topics it linked). A forget reads them all
    again. The projection is the one read whole after each."""
    with Memory.open(tmp_path / "store", "ents", settings=settings_for(tmp_path)) as memory:
        caches = _session_of_forty(memory, random.Random(5))
        asked: list[tuple[str, dict]] = []
        real_read = memory.store.read

        def read(query, params=None):
            asked.append((query, params or {}))
            return real_read(query, params)

        memory.store.read = read
        stored = {r["key"] for r in memory.cypher("MATCH (n:Entity) WHERE n.namespace = $namespace RETURN n.key AS key")}
        report = memory.add([{"speaker": "Melanie", "text": "I met Annika Brandt at the Rijksmuseum in Amsterdam yesterday.", "id": "m40"},
                             {"speaker": "Caroline", "text": "Did Annika like the Rijksmuseum?", "id": "m41"}],
                            conversation="chat", session="1")
        assert report.added == 2
        assert memory.search("Who did Melanie meet in Amsterdam?", k=3)
        assert caches.last_refresh["projection"] == "patched"
        names = [q for q, _ in asked]
        assert "read/projection_entities" not in names and "read/projection_aliases" not in names, names
        assert "read/projection_topics" not in names, names  # no topic relabelled: the topic rows are kept
        assert "read/projection_topic_links" not in names, names  # only the links from the topics it linked
        read_ids = next(p["entities"] for q, p in asked if q == "read/projection_delta_entities")
        keys = {r["key"] for r in memory.cypher("MATCH (n:Entity) WHERE n.namespace = $namespace AND n.id IN $ids RETURN n.key AS key",
                                                 {"ids": read_ids})}
        assert keys - stored, (keys, stored)  # the add's new entities are among those read
        assert len(read_ids) < len(stored), (read_ids, stored)  # ... and not every entity
        projection = caches.engine().projection
        assert _same(projection, read_projection(memory.store, memory.namespace)) == []
        assert any("annika" in key for key in projection.entity_key), projection.entity_key
        asked.clear()
        assert memory.forget(turn=report.turn_ids[:1])["turns"] == 1
        assert memory.search("Who did Melanie meet in Amsterdam?", k=3)
        assert "read/projection_entities" in [q for q, _ in asked]
        assert _same(caches.engine().projection, read_projection(memory.store, memory.namespace)) == []


COOKING = ("I baked sourdough bread with a rye starter", "We simmered a tomato sauce with basil and garlic",
           "My risotto needs more parmesan and stock", "The lasagna took three hours in the oven",
           "I whisked eggs and sugar for a sponge cake", "We grilled peppers and aubergines for dinner",
           "The dumplings were steamed with ginger and leeks", "I kneaded pasta dough and cut tagliatelle")
STARS = ("The telescope showed the rings of Saturn clearly", "We watched the Perseid meteor shower after midnight",
         "A red giant star will swell before it collapses", "The Andromeda galaxy is two million light years away",
         "Jupiter's moons orbit in a resonance", "The nebula glowed faintly through the eyepiece",
         "A neutron star spins hundreds of times a second", "The comet's tail points away from the sun")


def test_a_topic_refit_reads_again_the_memberships_of_its_granularity_not_everything(backend: Backend, tmp_path, embedder):
    """A live add that fits or refits a granularity's topics rewrites the membership of every
    unit of that granularity, wherever its session: the next search re-reads the topics, their
    links and those memberships with the sessions written, not the whole projection (5.9-8.8 s
    at 100,000 turns after an add that fitted the event topics), in the writing process and in
    another one following the change log. The projection is the one read whole after each add."""
    with memories(backend, settings_for(tmp_path)) as open_memory:
        memory = open_memory()
        other = open_memory(memory.namespace)
        mine, theirs = memory._service().caches, other._service().caches  # noqa: SLF001 - how each refreshed

        def topics() -> set[str]:
            return {r["id"] for r in memory.cypher("MATCH (c:Topic) WHERE c.namespace = $namespace RETURN c.id AS id")}

        memory.add([{"speaker": PEOPLE[i % 2], "text": f"{COOKING[i % 8]} on day {i}."} for i in range(40)],
                   conversation="chat", session="1")
        fitted = topics()
        assert fitted  # the first fit: 40 turns waited for their topics
        for m in (memory, other):
            assert m.search("What did I bake?", k=3)
        states, refits = [], 0
        for step in range(6):  # another subject: once 32 new turns no longer fit, the turn topics are refitted
            before = topics()
            memory.add([{"speaker": PEOPLE[i % 2], "text": f"{STARS[(step + i) % 8]}, night {step * 8 + i}."} for i in range(8)],
                       conversation="chat", session="2")
            refitted = topics() != before
            refits += refitted
            whole = read_projection(memory.store, memory.namespace)
            for m, caches in ((memory, mine), (other, theirs)):
                assert m.search("What did we see through the telescope?", k=3)
                assert _same(caches.engine().projection, whole) == [], (step, caches.last_refresh)
                states.append((refitted, caches.last_refresh["projection"]))
        assert refits >= 1 and topics() != fitted, states
        assert all(state == "patched" for _, state in states), states  # refits included
