"""One contract suite, run against every store backend (embedded, Bolt, and your Neo4j
when GRAPHMEM_TEST_NEO4J_URI is set): what graphmem promises does not depend on the engine."""

from __future__ import annotations

import itertools
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from conftest import CONTRACT_CONVERSATION, memories, settings_for, write_conversation

from graphmem.errors import InputError, StorageError
from graphmem.resources import query_names
from graphmem.store.base import GraphStore
from graphmem.store.bolt import BoltStore
from graphmem.store.embedded import EmbeddedStore

# DESIGN.md's data model: a backend must not invent labels or relationship types.
# (NamespaceSettings: the namespace's embedding model, and its time zone where one is set)
DESIGN_LABELS = {"Conversation", "Session", "Turn", "Episode", "Event", "Entity", "Topic", "NamespaceSettings"}
DESIGN_RELATIONSHIPS = {"OF", "IN", "NEXT", "PART_OF", "FROM", "INVOLVES", "IN_TOPIC", "ASSOCIATED", "ALIAS_OF",
                        "WITHIN"}  # WITHIN: the topic hierarchy (Topic)-[:WITHIN]->(Topic)
STORE_CLASSES: tuple[type[GraphStore], ...] = (EmbeddedStore, BoltStore)

TURNS = [t for s in CONTRACT_CONVERSATION["sessions"] for t in s["turns"]]


@pytest.fixture(scope="module")
def ingested(backend, tmp_path_factory, embedder):
    """The contract conversation ingested into two namespaces of ``backend``, once per module."""
    directory = tmp_path_factory.mktemp(f"contract-{backend.name}")
    source = write_conversation(directory)
    with memories(backend, settings_for(directory)) as factory:
        a, b = factory(), factory()
        report_a = a.ingest(source)
        report_b = b.ingest(source)
        yield SimpleNamespace(a=a, b=b, report_a=report_a, report_b=report_b, source=source, factory=factory)


def test_ingest_counts_are_exact(ingested):
    memory, report = ingested.a, ingested.report_a
    assert (report.conversations, report.sessions, report.turns_read, report.turns_added) == (1, 2, 10, 10)
    assert report.units_embedded["turn"] == 10

    stats = memory.stats()
    assert stats["namespace"] == memory.namespace
    nodes, rels = stats["nodes"], stats["relationships"]
    assert {label: nodes.get(label) for label in ("Conversation", "Session", "Turn")} == {"Conversation": 1, "Session": 2, "Turn": 10}
    assert {rel: rels.get(rel) for rel in ("OF", "IN")} == {"OF": 2, "IN": 10}
    assert set(nodes) <= DESIGN_LABELS and set(rels) <= DESIGN_RELATIONSHIPS
    turn_links = memory.cypher("MATCH (a:Turn)-[:NEXT]->(b:Turn) WHERE a.namespace = $namespace "
                               "RETURN a.source_id AS src, b.source_id AS dst ORDER BY a.seq")
    order = [t["id"] for t in TURNS]
    assert turn_links == [{"src": x, "dst": y} for x, y in itertools.pairwise(order)]


def test_reingest_changes_nothing(ingested):
    memory = ingested.a
    before = memory.stats()
    again = memory.ingest(ingested.source)
    assert (again.turns_read, again.turns_added) == (10, 0)
    assert again.units_embedded.get("turn", 0) == 0
    assert memory.stats() == before

    # another Memory on the same namespace (another process, say) sees the same store
    other = ingested.factory(memory.namespace)
    assert other.ingest(ingested.source).turns_added == 0
    assert other.stats() == before


def test_search_returns_the_obvious_turn_with_provenance(ingested):
    memory = ingested.a
    hits = memory.search("What is the name of Maya's cat?", k=3)
    assert len(hits) == 3
    best = hits[0]
    assert best.source_id == "D1:2"
    assert best.text == "Yes! My new cat is a ginger tabby called Biscuit."
    assert (best.speaker, best.conversation_id, best.session_key, best.session_number) == ("Maya", "contract-maya-leo", "1", 1)
    assert best.unit == "turn" and best.node_id.startswith("turn:")
    assert hits[0].score >= hits[1].score >= hits[2].score
    assert all(h.source_id in {t["id"] for t in TURNS} for h in hits)

    sessions = memory.search("renovating the kitchen with new cabinets", k=2, unit="session")
    assert [s.session_key for s in sessions] == ["2", "1"]


def test_search_from_a_reopened_memory_gives_the_same_hits(ingested):
    query = "who is a plumber?"
    expected = [(h.node_id, h.source_id) for h in ingested.a.search(query, k=4)]
    assert expected[0][1] == "D2:4"
    reopened = ingested.factory(ingested.a.namespace)
    assert [(h.node_id, h.source_id) for h in reopened.search(query, k=4)] == expected


@pytest.mark.parametrize("query, said", [("MATCH (n RETURN n", "no viable alternative"), ("MATCH (t:Turn) RETRN t", "'RETRN'"),
                                         ("RETURN no_such_function(1) AS x", "no_such_function"), ("RETURN x", "'x' not defined"),
                                         ("RETURN 1 AS x, 2 AS x", "more than once")])
def test_a_cypher_syntax_error_is_the_querys_fault_on_every_backend(memory_factory, query, said):
    """A syntax error (an unknown function, an undefined variable) is an ``InputError`` (CLI exit 2,
    HTTP 400) whatever the store: over Bolt each was a ``StorageError`` (exit 1, HTTP 500, as if the
    database had failed), and on the embedded store those ArcadeDB words as "Unexpected input"."""
    with pytest.raises(InputError, match=r"^cypher: ") as caught:
        memory_factory().cypher(query)
    assert said in str(caught.value) and "\n" not in str(caught.value)


def test_cypher_with_parameters(ingested):
    memory = ingested.a
    rows = memory.cypher(
        "MATCH (t:Turn) WHERE t.namespace = $namespace AND t.speaker = $speaker "
        "RETURN t.source_id AS source_id, t.session_number AS session ORDER BY t.seq",
        {"speaker": "Leo"},
    )
    assert rows == [{"source_id": i, "session": int(i[1])} for i in ("D1:1", "D1:3", "D1:5", "D2:2", "D2:4")]

    rows = memory.cypher("MATCH (c:Conversation) WHERE c.namespace = $namespace RETURN c")
    assert len(rows) == 1
    node = rows[0]["c"]  # a node comes back as its properties
    assert node["key"] == "contract-maya-leo" and node["namespace"] == memory.namespace

    rows = memory.cypher(
        "MATCH (a:Turn {source_id: $src})-[:NEXT]->(b:Turn) WHERE a.namespace = $namespace RETURN b.text AS text",
        {"src": "D1:5"},
    )
    assert rows == [{"text": "We started renovating the kitchen this weekend."}]


def test_namespaces_are_isolated(ingested, memory_factory):
    a, b = ingested.a, ingested.b
    assert ingested.report_b.turns_added == 10  # the same content is new in another namespace
    stats_a, stats_b = a.stats(), b.stats()
    assert stats_a["nodes"] == stats_b["nodes"] and stats_a["relationships"] == stats_b["relationships"]
    assert stats_a["nodes"]["Turn"] == 10

    hits_a, hits_b = a.search("Biscuit the cat", k=10), b.search("Biscuit the cat", k=10)
    assert len(hits_a) == len(hits_b) == 10
    assert not {h.node_id for h in hits_a} & {h.node_id for h in hits_b}
    assert [h.source_id for h in hits_a] == [h.source_id for h in hits_b]
    assert a.cypher("MATCH (n) WHERE n.namespace = $namespace AND NOT n:ChangeMarker RETURN count(n) AS n") == \
        [{"n": sum(stats_a["nodes"].values())}]

    empty = memory_factory()  # the same store, a namespace nobody wrote to
    assert empty.stats()["nodes"] == {} and empty.stats()["relationships"] == {}
    assert empty.search("Biscuit the cat", k=3) == []


def test_failed_write_transaction_leaves_nothing(memory_factory):
    memory = memory_factory()
    ns = memory.namespace
    good = f"conversation:{uuid.uuid4().hex}"
    statements = [
        ("write/merge_conversations", {"rows": [{"id": good, "props": {"namespace": ns, "key": "kept-if-broken"}}]}),
        # a map is not a valid property value on any backend: this statement fails
        ("write/merge_conversations", {"rows": [{"id": f"conversation:{uuid.uuid4().hex}", "props": {"namespace": ns, "bad": {"nested": 1}}}]}),
    ]
    with pytest.raises(StorageError):
        memory.store.write(statements)
    assert memory.cypher("MATCH (c:Conversation {id: $id}) RETURN count(c) AS n", {"id": good}) == [{"n": 0}]
    assert memory.stats()["nodes"] == {}

    memory.store.write(statements[:1])  # the same valid statement alone commits
    assert memory.cypher("MATCH (c:Conversation {id: $id}) RETURN count(c) AS n", {"id": good}) == [{"n": 1}]


def test_prepared_statements_write_the_same_from_another_thread(memory_factory):
    """An ingest converts a transaction's parameters in its main thread (GraphStore.prepare) and
    writes them from its writer thread: what is stored must not depend on where or whether the
    statements were prepared, and a failed prepared transaction still leaves nothing."""
    import numpy as np

    memory = memory_factory()
    ns, store = memory.namespace, memory.store
    vector = np.random.default_rng(3).standard_normal(16).astype(np.float32)

    def turns(prefix: str) -> list[tuple[str, dict]]:
        return [("write/merge_turns", {"rows": [{"id": f"{prefix}-{i}", "session_id": "none", "props": {
            "namespace": ns, "text": f"turn {i} \u2028 'quoted' \U0001F600", "seq": i, "embedding": vector * (i + 1)}}
            for i in range(3)]})]

    statements = turns("prepared")
    prepared = store.prepare(statements)
    assert list(prepared) == statements  # still the statements (the same objects), for messages and logs
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(store.write, prepared).result()
    store.write(turns("plain"))
    # statements another backend prepared are converted again for this one
    other = (EmbeddedStore("/nonexistent/graphmem-contract") if isinstance(store, BoltStore)
             else BoltStore("bolt://127.0.0.1:1"))  # constructors do no I/O
    store.write(other.prepare(turns("foreign")))
    rows = memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.id AS id, t.text AS text, "
                         "t.seq AS seq, t.embedding AS embedding ORDER BY t.id")
    by_id = {r["id"]: r for r in rows}
    assert len(by_id) == 9
    for i in range(3):
        want = (f"turn {i} \u2028 'quoted' \U0001F600", i)
        for prefix in ("prepared", "plain", "foreign"):
            row = by_id[f"{prefix}-{i}"]
            assert (row["text"], row["seq"]) == want
            assert np.allclose(np.asarray(row["embedding"], dtype=np.float32), vector * (i + 1))

    broken = store.prepare([*turns("broken"), ("write/merge_conversations", {"rows": [
        {"id": f"conversation:{uuid.uuid4().hex}", "props": {"namespace": ns, "bad": {"nested": 1}}}]})])
    with pytest.raises(StorageError):
        store.write(broken)
    assert memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace AND t.id STARTS WITH 'broken' "
                         "RETURN count(t) AS n") == [{"n": 0}]


# ---------------------------------------------------------------------------- query names
def _kinds() -> set[str]:
    return {cls.kind for cls in STORE_CLASSES}


def _generic_names() -> set[str]:
    return {name for name in query_names() if name.split("/", 1)[0] not in _kinds()}


@pytest.mark.parametrize("store_class", STORE_CLASSES, ids=lambda c: c.kind)
def test_dialect_files_have_generic_twins_and_are_declared(store_class):
    prefix = f"{store_class.kind}/"
    dialect_files = {name[len(prefix):] for name in query_names() if name.startswith(prefix)}
    generic = _generic_names()
    assert dialect_files <= generic, f"{store_class.kind}-only statements without a generic twin: {sorted(dialect_files - generic)}"
    assert set(store_class.dialect_overrides) == dialect_files, (
        f"{store_class.__name__}.dialect_overrides must list exactly the files under cypher/{prefix}"
    )


def test_every_backend_resolves_the_same_query_names():
    stores = [EmbeddedStore("/nonexistent/graphmem-contract"), BoltStore("bolt://127.0.0.1:1")]  # constructors do no I/O
    generic = _generic_names()
    assert {"read/count_nodes", "write/merge_turns"} <= generic and any(n.startswith("schema/") for n in generic)
    resolvable = {}
    for store in stores:
        texts = {name: store.statement_text(name) for name in generic}
        assert all(text.strip() for text in texts.values())
        resolvable[store.kind] = set(texts)
        assert store.schema_statements() == sorted(n for n in generic if n.startswith("schema/"))
    assert resolvable["embedded"] == resolvable["bolt"]


def test_embedded_rows_and_vectors_cross_unchanged(tmp_path):
    """Batched rows cross into the JVM as one JSON text and vectors as float[]: every value
    must come back exactly as given, and rows JSON cannot carry take the per-value path."""
    import numpy as np

    vector = np.random.default_rng(0).standard_normal(384).astype(np.float32)
    texts = ["emoji 🎉 and RTL שלום", "zero\u200bwidth", "quotes ' \" ` {braces} '}) DETACH DELETE n //", "", "line\nbreak\ttab"]
    rows = [{"id": f"cross-{i}", "session_id": "none", "props": {
        "namespace": "cross", "text": text, "seq": 2**40 + i, "index": i, "p": 1.0, "small": 1e-7, "flag": i % 2 == 0,
        "nothing": None, "terms": ["a", "b"], "embedding": vector}} for i, text in enumerate(texts)]
    # a numpy scalar keeps this batch off the JSON path; it must store the same values
    fallback = [{"id": "cross-fallback", "session_id": "none", "props": {
        "namespace": "cross", "text": texts[0], "seq": np.int64(7), "p": np.float64(0.5), "embedding": vector}}]
    store = EmbeddedStore(tmp_path / "store").open()
    try:
        store.write([("write/merge_turns", {"rows": rows}), ("write/merge_turns", {"rows": fallback})])
        got = {r["id"]: r for r in store.run_cypher(
            "MATCH (t:Turn) WHERE t.namespace = 'cross' RETURN t.id AS id, t.text AS text, t.seq AS seq, t.index AS index, "
            "t.p AS p, t.small AS small, t.flag AS flag, t.nothing AS nothing, t.terms AS terms, t.embedding AS embedding")}
    finally:
        store.close()
    for i, text in enumerate(texts):
        row = got[f"cross-{i}"]
        assert (row["text"], row["seq"], row["index"], row["p"], row["small"], row["flag"], row["nothing"], row["terms"]) == (
            text, 2**40 + i, i, 1.0, 1e-7, i % 2 == 0, None, ["a", "b"])
        assert np.array_equal(np.asarray(row["embedding"], dtype=np.float32), vector)
    assert (got["cross-fallback"]["seq"], got["cross-fallback"]["p"]) == (7, 0.5)
    assert np.array_equal(np.asarray(got["cross-fallback"]["embedding"], dtype=np.float32), vector)
