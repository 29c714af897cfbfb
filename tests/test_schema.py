"""The documented graph schema (issue 17, item 3): one source (``graphmem/schema.py``) that
``graphmem schema`` prints, the README shows, and a real store matches both ways."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

from samples import GARDEN, write_native
from typer.testing import CliRunner

from graphmem.cli import app
from graphmem.memory import Memory
from graphmem.schema import NODES, RELATIONSHIPS, compare_with_store, schema_dict, schema_markdown

README = Path(__file__).resolve().parents[1] / "README.md"
runner = CliRunner()


def _sample() -> dict:
    """GARDEN with what the optional properties need: conversation metadata and an image caption."""
    doc = copy.deepcopy(GARDEN)
    doc["metadata"] = {"channel": "chat", "rating": 5}
    doc["sessions"][1]["turns"][1]["caption"] = "a photo of basil seedlings with holes in the leaves"
    return doc


def test_the_readme_shows_the_schema_generated_from_its_source():
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- schema:begin[^>]*-->\n(.*?)\n<!-- schema:end -->", text, re.S)
    assert match, "README has no schema block"
    assert match.group(1) == schema_markdown(), "README schema differs: paste `graphmem schema --markdown` between the markers"


def test_the_schema_names_every_label_and_type_once_with_documented_properties():
    labels = [n.name for n in NODES]
    types = [r.name for r in RELATIONSHIPS]
    assert len(set(labels)) == len(labels) and len(set(types)) == len(types)
    assert {"Conversation", "Session", "Turn", "TurnVersion", "Episode", "Event", "Entity", "Topic", "ChangeMarker",
            "NamespaceSettings"} == set(labels)
    assert {"OF", "IN", "NEXT", "PART_OF", "FROM", "INVOLVES", "IN_TOPIC", "WITHIN", "ASSOCIATED", "ALIAS_OF",
            "VERSION_OF"} == set(types)
    for node in NODES:
        names = [p.name for p in node.properties]
        assert names[:2] == ["id", "namespace"] and len(set(names)) == len(names), node.name
        assert all(p.description and p.type for p in node.properties), node.name
    for rel in RELATIONSHIPS:
        assert all(a in labels and b in labels for a, b in rel.endpoints), rel.name
    turn = {p.name: p for p in next(n for n in NODES if n.name == "Turn").properties}
    assert all(turn[k].optional for k in ("version", "updated_at", "slot", "caption", "extraction_error"))
    version = {p.name for p in next(n for n in NODES if n.name == "TurnVersion").properties}
    assert {"id", "namespace", "turn_id", "version", "speaker", "text", "caption", "timestamp", "replaced_at", "meta_*"} == version


def test_a_store_after_an_ingest_matches_the_schema_both_ways(memory_factory, tmp_path):
    memory = memory_factory()
    memory.ingest(write_native(tmp_path, _sample()))
    comparison = compare_with_store(memory.store, memory.namespace)
    assert comparison.documented, f"in the store but not documented: {comparison.to_dict()}"
    assert comparison.complete, f"documented but not in the store: {comparison.to_dict()}"
    found = {r["key"] for r in memory.store.read("read/schema_node_keys", {"namespace": memory.namespace})}
    assert {"caption", "meta_channel", "meta_rating", "time_start", "embedding"} <= found  # the optional ones were exercised


def test_anything_undocumented_in_a_store_is_reported(memory_factory, tmp_path):
    memory = memory_factory()
    memory.ingest(write_native(tmp_path))
    memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace WITH t LIMIT 1 SET t.txet = 'typo' "
                  "CREATE (b:Bogus {namespace: $namespace, id: 'bogus-1'})-[:POINTS_AT {how: 1}]->(t)", write=True)
    comparison = compare_with_store(memory.store, memory.namespace)
    assert comparison.undocumented_labels == ["Bogus"]
    assert comparison.undocumented_properties == ["Turn.txet"]
    assert comparison.undocumented_relationships == ["(Bogus)-[:POINTS_AT]->(Turn)"]
    assert comparison.complete and not comparison.documented


def test_graphmem_schema_prints_and_compares(tmp_path):
    result = runner.invoke(app, ["schema", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == schema_dict()
    result = runner.invoke(app, ["schema", "--markdown"])
    assert result.exit_code == 0 and result.stdout.strip() == schema_markdown().strip()
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    for node in NODES:
        assert f"(:{node.name})" in result.stdout
    store = str(tmp_path / "store")
    assert runner.invoke(app, ["ingest", str(write_native(tmp_path)), "--store", store, "-n", "s"]).exit_code == 0
    result = runner.invoke(app, ["schema", "--store", store, "-n", "s", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["undocumented_properties"] == []
    with Memory.open(store, "s") as memory:
        memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace SET t.mood = 'x'", write=True)
    result = runner.invoke(app, ["schema", "--store", store, "-n", "s"])
    assert result.exit_code == 1 and "Turn.mood" in result.stdout


def test_check_reads_every_property_the_schema_gives_a_type_to():
    """check/properties_<label>.cypher return the id and exactly the properties whose type
    graphmem.check compares with the schema: a property added to the schema is checked too."""
    import graphmem
    from graphmem.check import _OF_TYPE

    cypher = Path(graphmem.__file__).parent / "cypher" / "check"
    kinds = [(n.name.lower(), n.properties) for n in NODES] + [(r.name.lower(), r.properties) for r in RELATIONSHIPS]
    for name, properties in kinds:
        checked = {p.name for p in properties if p.type in _OF_TYPE and not p.name.endswith("*") and p.name not in ("id", "namespace")}
        path = cypher / f"properties_{name}.cypher"
        if not checked:
            assert not path.exists(), path
            continue
        returned = re.findall(r"\bAS (\w+)", path.read_text(encoding="utf-8").split("RETURN", 1)[1])
        assert returned[0] == "id" and set(returned[1:]) == checked and len(returned) == len(checked) + 1, name
