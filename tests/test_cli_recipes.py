"""Recipes and ``graphmem cypher`` output (issue 17, item 4): every recipe parameter has a default
or a missing one says "missing parameter $x" (no Java exception name, exit 2); ids whole in
``--json`` and with ``--wide``; floats rounded in tables; embeddings left out of printed nodes
unless ``--embeddings``. On the real embedded store, and over Bolt for the store-boundary errors."""

from __future__ import annotations

import json
import re

import pytest
from samples import write_native
from typer.testing import CliRunner

from graphmem.cli import app
from graphmem.memory import Memory
from graphmem.resources import recipes

runner = CliRunner()
NS = "recipes-cli"
JAVA = re.compile(r"Exception|com\.arcadedb|java\.")


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    directory = tmp_path_factory.mktemp("recipes-cli")
    location = str(directory / "store")
    assert invoke("ingest", str(write_native(directory)), "--store", location, "--namespace", NS).exit_code == 0
    return location


def cypher(store: str, *args: str):
    return invoke("cypher", *args, "--store", store, "--namespace", NS)


def test_every_limit_has_a_default_and_other_parameters_are_named_in_the_header():
    for recipe in recipes():
        if "limit" in recipe.parameters:
            assert isinstance(recipe.defaults.get("limit"), int) and recipe.defaults["limit"] > 0, recipe.name
        assert set(recipe.defaults) <= set(recipe.parameters), recipe.name


@pytest.mark.parametrize("recipe", [r for r in recipes() if "limit" in r.parameters], ids=lambda r: r.name)
def test_a_recipe_runs_without_its_defaulted_parameters(store, recipe):
    given = {"name": "Alice", "speaker": "Alice"}
    if "topic_id" in recipe.parameters:
        given["topic_id"] = json.loads(cypher(store, "--recipe", "topics", "--json").stdout)[0]["topic_id"]
    args = [a for p in recipe.parameters if p in given for a in ("--param", f"{p}={given[p]}")]
    result = cypher(store, "--recipe", recipe.name, *args, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    if "healthy store" not in recipe.description:
        assert rows and len(rows) <= recipe.defaults["limit"]


def test_a_recipe_run_by_file_takes_the_defaults_of_its_header(store, tmp_path):
    """The README runs a recipe "with --recipe NAME or --file cypher/inspect/NAME.cypher"; by file,
    speaker_timeline said "missing parameter $limit" though its header gives it a default."""
    recipe = next(r for r in recipes() if r.name == "speaker_timeline")
    path = tmp_path / "speaker_timeline.cypher"
    path.write_text(recipe.text, encoding="utf-8")
    by_file = cypher(store, "--file", str(path), "--param", "speaker=Alice", "--json")
    by_name = cypher(store, "--recipe", "speaker_timeline", "--param", "speaker=Alice", "--json")
    assert by_file.exit_code == 0, by_file.output
    assert json.loads(by_file.stdout) == json.loads(by_name.stdout) and json.loads(by_file.stdout)
    assert cypher(store, "--file", str(path), "--param", "speaker=Alice", "--param", "limit=1", "--json").stdout.count('"') \
        < by_file.stdout.count('"')  # a parameter given still wins over the default
    other = tmp_path / "other_namespace.cypher"  # a header's default for $namespace never overrides --namespace
    other.write_text("// Turns.\n// Parameters: $namespace (default elsewhere)\n"
                     "MATCH (t:Turn) WHERE t.namespace = $namespace RETURN count(t) AS n", encoding="utf-8")
    assert json.loads(cypher(store, "--file", str(other), "--json").stdout)[0]["n"] > 0


def test_a_missing_recipe_parameter_is_named(store):
    result = cypher(store, "--recipe", "speaker_timeline")
    assert result.exit_code == 2
    assert "missing parameter $speaker" in result.stderr and not JAVA.search(result.stderr)


@pytest.mark.parametrize(("query", "name"), [
    ("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.id AS id LIMIT $limit", "$limit"),
    ("RETURN $a + $b AS x", "$a, $b"),
])
def test_a_missing_parameter_in_any_query_is_named(store, query, name):
    result = cypher(store, query)
    assert result.exit_code == 2, result.output
    assert f"missing parameter {name}" in result.stderr and not JAVA.search(result.output)


def test_other_database_errors_carry_no_java_names(store):
    result = cypher(store, "MATCH (n RETURN n")
    assert result.exit_code == 2 and "cypher: Syntax error" in result.stderr and not JAVA.search(result.stderr)


def test_ids_are_whole_in_json_and_with_wide_and_never_cut(store):
    with Memory.open(store, NS) as memory:
        stored = sorted(r["id"] for r in memory.cypher("MATCH (t:Topic) WHERE t.namespace = $namespace RETURN t.id AS id"))
    rows = json.loads(cypher(store, "--recipe", "topics", "--json").stdout)
    assert sorted(r["topic_id"] for r in rows) == stored
    wide = cypher(store, "--recipe", "topics", "--wide")
    assert wide.exit_code == 0
    lines = wide.stdout.splitlines()
    assert all(any(topic_id in line for line in lines) for topic_id in stored)  # each whole, on one line
    narrow = cypher(store, "--recipe", "topics")
    assert "…" not in narrow.stdout and "..." not in narrow.stdout


def _cells(output: str, column: int) -> list[str]:
    return [line.split("│")[column].strip() for line in output.splitlines() if line.startswith("│")]


def test_floats_are_rounded_in_tables_and_exact_in_json(store):
    topic_id = json.loads(cypher(store, "--recipe", "topics", "--json").stdout)[0]["topic_id"]
    query = ("MATCH (u)-[r:IN_TOPIC]->(t:Topic {id: $topic_id}) WHERE t.namespace = $namespace "
             "RETURN r.p AS p, [r.p, 1.0 / 3] AS pair ORDER BY p DESC")
    exact = json.loads(cypher(store, query, "--param", f"topic_id={topic_id}", "--json").stdout)
    assert any(len(repr(row["p"])) > 6 for row in exact + [{"p": exact[0]["pair"][1]}])
    table = cypher(store, query, "--param", f"topic_id={topic_id}", "--wide")
    ps, pairs = _cells(table.stdout, 1), _cells(table.stdout, 2)
    assert ps and all(re.fullmatch(r"\d(\.\d{1,3})?", p) for p in ps), ps
    assert all(pair.endswith(", 0.333]") for pair in pairs), pairs


def test_embeddings_are_left_out_of_printed_nodes_unless_asked(store):
    query = "MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t ORDER BY t.seq LIMIT 2"
    rows = json.loads(cypher(store, query, "--json").stdout)
    assert len(rows) == 2 and "embedding" not in rows[0]["t"] and rows[0]["t"]["text"]
    table = cypher(store, query)
    assert "embedding" not in table.stdout and "Alice" in table.stdout
    full = json.loads(cypher(store, query, "--json", "--embeddings").stdout)
    assert len(full[0]["t"]["embedding"]) == 384
    explicit = json.loads(cypher(store, "MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.embedding AS e LIMIT 1",
                                 "--json").stdout)
    assert len(explicit[0]["e"]) == 384  # asked for by name: kept


@pytest.mark.bolt
def test_bolt_missing_parameter_write_without_write_and_namespaces(bolt_server, tmp_path):
    user, password = bolt_server.auth
    base = ["--store", bolt_server.uri, "--user", user, "--password", password, "--database", bolt_server.database,
            "--namespace", f"recipes-{tmp_path.name}"]
    missing = invoke("cypher", "RETURN $x AS x", *base)
    assert missing.exit_code == 2 and "missing parameter $x" in missing.stderr
    write = invoke("cypher", "CREATE (n:Scratch {namespace: $namespace}) RETURN 1 AS one", *base)
    assert write.exit_code == 2 and "add --write" in write.stderr
    count = invoke("cypher", "MATCH (n:Scratch) WHERE n.namespace = $namespace RETURN count(n) AS n", *base, "--json")
    assert json.loads(count.stdout) == [{"n": 0}]
    namespace = base[-1]
    created = invoke("cypher", "CREATE (c:Conversation {namespace: $namespace, id: $namespace}) RETURN c", *base, "--write", "--json")
    assert created.exit_code == 0 and "embedding" not in created.stdout
    try:
        listed = {row["namespace"]: row for row in json.loads(invoke("namespaces", *base[:-2], "--json").stdout)}
        assert listed[namespace]["labels"] == {"Conversation": 1}
        assert invoke("stats", *base, "--json").exit_code == 0
        typo = invoke("stats", *base[:-1], namespace + "x")
        assert typo.exit_code == 2 and f"'{namespace}'" in typo.stderr
    finally:
        invoke("cypher", "MATCH (n) WHERE n.namespace = $namespace DETACH DELETE n", *base, "--write")
