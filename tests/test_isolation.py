"""Tenant isolation (issue 8): search, stats, the inspection recipes, check and forget in one
namespace never read or touch another, even when both hold nearly the same conversation."""

from __future__ import annotations

import copy
import json
import re
from types import SimpleNamespace

import pytest
from conftest import settings_for
from samples import GARDEN, write_native

from graphmem import Memory
from graphmem.hits import UNITS
from graphmem.memory import STRATEGIES
from graphmem.resources import query_names, query_text

# Tenant B holds the same conversation (same key, speakers, session keys and most turns) as A,
# plus secrets A must never see.
SECRETS = ("locker", "4471", "flowerpot")
TENANT_B = copy.deepcopy(GARDEN)
TENANT_B["sessions"][0]["turns"][3]["text"] = "My gym locker code is 4471, do not tell anyone."
TENANT_B["sessions"][1]["turns"][1]["text"] = "I hid the spare key under the blue flowerpot by the raised beds."
SECRET_QUERIES = ("What is Ben's gym locker code?", "Where is the spare key hidden, under the blue flowerpot?")


def node_ids(memory: Memory) -> set[str]:
    return {r["id"] for r in memory.cypher("MATCH (n) WHERE n.namespace = $namespace RETURN n.id AS id")}


@pytest.fixture(scope="module")
def tenants(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tenants")
    settings = settings_for(directory)
    a = Memory.open(directory / "store", "tenant", settings=settings)
    b = Memory.open(directory / "store", "tenant ", settings=settings)  # one trailing space apart
    a.ingest(write_native(directory, GARDEN, "a.json"))
    a_stats = a.stats()
    b.ingest(write_native(directory, TENANT_B, "b.json"))
    yield SimpleNamespace(a=a, b=b, a_stats=a_stats, directory=directory, settings=settings)
    a.close()
    b.close()


def test_ids_differ_even_for_identical_content(tenants):
    assert not node_ids(tenants.a) & node_ids(tenants.b)
    assert tenants.a.stats() == tenants.a_stats  # B's ingest changed nothing in A


def test_search_in_a_never_returns_b(tenants):
    a_ids, b_ids = node_ids(tenants.a), node_ids(tenants.b)
    for strategy in STRATEGIES:
        for unit in UNITS:
            for query in SECRET_QUERIES:
                for hit in tenants.a.search(query, k=10, unit=unit, strategy=strategy):
                    assert hit.node_id in a_ids and hit.node_id not in b_ids, (strategy, unit)
                    assert not any(s in hit.text.lower() for s in SECRETS), (strategy, unit, hit.text)
    assert any("locker" in h.text for h in tenants.b.search(SECRET_QUERIES[0], k=3))


def _recipe_params(text: str, namespace: str, ids: dict[str, str]) -> dict:
    params = {"namespace": namespace, "limit": 100}
    for name in set(re.findall(r"\$(\w+)", text)) - set(params):
        params[name] = ids.get(name)
    return params


def test_inspection_recipes_scoped_to_a_see_nothing_of_b(tenants):
    a, b = tenants.a, tenants.b
    ids_of = {}
    for memory in (a, b):
        turn = memory.cypher("MATCH (t:Turn)-[:ASSOCIATED]-() WHERE t.namespace = $namespace RETURN t.id AS id LIMIT 1") or \
            memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.id AS id LIMIT 1")
        topic = memory.cypher("MATCH (t:Topic) WHERE t.namespace = $namespace RETURN t.id AS id LIMIT 1")
        ids_of[memory.namespace] = {"id": turn[0]["id"], "topic_id": topic[0]["id"]}
    b_ids = node_ids(b)
    recipes = [n for n in query_names() if n.startswith("inspect/")]
    assert recipes
    answered = 0
    for name in recipes:
        text = query_text(name)
        # A's namespace with B's node ids: nothing of B (and nothing at all when the recipe starts from a node)
        rows = a.cypher(text, _recipe_params(text, a.namespace, ids_of[b.namespace]))
        dump = json.dumps(rows, ensure_ascii=False)
        assert not any(i in dump for i in b_ids), name
        if set(re.findall(r"\$(\w+)", text)) & set(ids_of[b.namespace]):
            assert rows == [], name
        # A's namespace with A's ids: only A
        rows = a.cypher(text, _recipe_params(text, a.namespace, ids_of[a.namespace]))
        answered += bool(rows)
        dump = json.dumps(rows, ensure_ascii=False)
        assert not any(i in dump for i in b_ids), name
        assert not any(s in dump.lower() for s in SECRETS), name
    assert answered >= 2


def test_check_sees_no_link_between_tenants(tenants):
    for memory in (tenants.a, tenants.b):
        report = memory.check()
        assert report.ok and "cross_namespace_edges" not in report.problems


def test_forget_in_one_tenant_leaves_the_other_alone(tmp_path):
    settings = settings_for(tmp_path)
    with Memory.open(tmp_path / "store", "left", settings=settings) as left, \
            Memory.open(tmp_path / "store", "right", settings=settings) as right:
        left.ingest(write_native(tmp_path, GARDEN, "a.json"))
        right.ingest(write_native(tmp_path, TENANT_B, "b.json"))
        right_before, right_ids = right.stats(), node_ids(right)
        assert right.search(SECRET_QUERIES[0], k=1)  # right's caches are loaded before the forget

        left.forget(conversation="garden-chat")
        assert left.stats()["nodes"] == {"NamespaceSettings": 1}  # only what is stored with it: its embedding model
        assert right.stats() == right_before and node_ids(right) == right_ids
        assert any("locker" in h.text for h in right.search(SECRET_QUERIES[0], k=3))
        assert right.check().ok and left.check().ok

        # an explicit other namespace: only that one is touched
        left.ingest(write_native(tmp_path, GARDEN, "a.json"))
        left_before = left.stats()
        counts = left.forget(conversation="garden-chat", session="1", namespace="right")
        assert counts["turns"] == 6
        assert left.stats() == left_before
        assert right.stats()["nodes"]["Turn"] == 4
        assert not any("locker" in h.text for h in right.search(SECRET_QUERIES[0], k=10))
        assert right.check().ok and left.check().ok


# The namespace's reads go through each label's namespace index (a label-free MATCH scans every
# namespace of the store: with 12 LongMemEval haystacks in one store, loading one namespace's
# projection took 2.2 s, 0.3 s through the indexes). Each must still read exactly what the
# label-free reference query below reads (for the counts: read/count_nodes and
# read/count_relationships, which stats, check and export keep, to see any label).
_REFERENCE = {
    "read/projection_node_counts": query_text("read/count_nodes"),
    "read/projection_relationship_counts": query_text("read/count_relationships"),
    "read/projection_associations": "MATCH (a)-[r:ASSOCIATED]->(b) WHERE a.namespace = $namespace "
                                    "RETURN a.id AS src, b.id AS dst, r.w AS w, r.granularity AS granularity",
    "read/projection_topic_members": "MATCH (x)-[r:IN_TOPIC]->(c:Topic) WHERE c.namespace = $namespace "
                                     "RETURN x.id AS member, c.id AS topic, r.p AS p",
    "read/projection_involves": "MATCH (v:Event)-[r:INVOLVES]->(n:Entity) WHERE v.namespace = $namespace "
                                "RETURN v.id AS event_id, n.id AS entity_id, r.role AS role",
}


def _rows(rows) -> list:
    return sorted(tuple(sorted((k, repr(v)) for k, v in r.items())) for r in rows)


@pytest.mark.parametrize("name", sorted(_REFERENCE))
def test_namespace_reads_match_a_label_free_scan(tenants, name):
    for memory in (tenants.a, tenants.b):
        got = memory._store.read(name, {"namespace": memory.namespace})  # noqa: SLF001
        assert got, name  # each tenant has nodes and links of every kind read here
        assert _rows(got) == _rows(memory.cypher(_REFERENCE[name])), name


def _matched_labels(name: str) -> set[str]:
    return set(re.findall(r"\(\w+:(\w+) \{namespace: \$namespace\}\)", query_text(name)))


def test_namespace_reads_cover_every_label_of_the_schema():
    from graphmem.schema import NODES, RELATIONSHIPS

    stored = {n.name for n in NODES} - {"ChangeMarker"}
    assert _matched_labels("read/projection_node_counts") == stored
    sources = {s for r in RELATIONSHIPS for s, _t in r.endpoints}
    assert sources <= _matched_labels("read/projection_relationship_counts") == stored
    associated = next(r for r in RELATIONSHIPS if r.name == "ASSOCIATED")
    assert _matched_labels("read/projection_associations") == {s for s, _t in associated.endpoints}
