"""The inspection recipes (``cypher/inspect/*.cypher``) on both the embedded and the Bolt backend.

Every recipe shipped in the folder is found and run (a new recipe is covered without touching
this file, as long as its parameters have a value in ``recipe_params`` below) on the small
garden conversation, ingested into one namespace of each backend. Each must run unchanged,
answer the kind of rows the data guarantees (some rows, or none for the health checks whose
header says "healthy store"), and give the same answer on both backends.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from types import SimpleNamespace

import pytest
from conftest import Backend, memories, new_namespace, settings_for
from samples import GARDEN, write_native
from typer.testing import CliRunner

from graphmem.cli import app
from graphmem.resources import Recipe, recipes

pytestmark = pytest.mark.bolt

INSPECT = resources.files("graphmem").joinpath("cypher", "inspect")
RECIPES = recipes()
BACKEND_NAMES = ("embedded", "bolt")
SPEAKER = "Alice"  # a speaker of GARDEN: an Entity, and the speaker of several turns


def test_every_file_in_the_inspect_folder_is_a_recipe_with_documented_parameters():
    files = sorted(p.name[: -len(".cypher")] for p in INSPECT.iterdir() if p.name.endswith(".cypher"))
    assert files and [r.name for r in RECIPES] == files
    for recipe in RECIPES:
        used = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", _body(recipe.text)))
        assert recipe.description, recipe.name
        assert recipe.description.rstrip().endswith((".", "?", ")")), (recipe.name, recipe.description)  # not cut mid-sentence
        assert used == set(recipe.parameters), f"{recipe.name}: header names {recipe.parameters}, the query uses {used}"


@pytest.fixture(scope="module")
def garden(tmp_path_factory, bolt_server, embedder):
    """GARDEN ingested into the same namespace on the embedded store and on the Bolt server."""
    directory = tmp_path_factory.mktemp("recipes")
    settings = settings_for(directory)
    source = write_native(directory, GARDEN)
    namespace = new_namespace("recipes")
    backends = {
        "embedded": Backend("embedded", str(directory / "embedded")),
        "bolt": Backend("bolt", bolt_server.uri, bolt_server.auth, bolt_server.database),
    }
    with memories(backends["embedded"], settings) as on_embedded, memories(backends["bolt"], settings) as on_bolt:
        opened = {"embedded": on_embedded(namespace), "bolt": on_bolt(namespace)}
        for memory in opened.values():
            memory.ingest(source)
        yield SimpleNamespace(memories=opened, backends=backends, params={n: recipe_params(m) for n, m in opened.items()},
                              namespace=namespace)


def recipe_params(memory) -> dict:
    """A value for every recipe parameter, taken from what was ingested."""
    def one(query: str) -> str:
        rows = memory.cypher(query)
        assert rows, query
        return rows[0]["id"]

    return {
        "namespace": memory.namespace,
        "limit": 100,
        "name": SPEAKER,
        "speaker": SPEAKER,
        # the turn with the most associations (ties by id): the same node on both backends
        "id": one("MATCH (t:Turn)-[r:ASSOCIATED]-() WHERE t.namespace = $namespace "
                  "RETURN t.id AS id, count(r) AS n ORDER BY n DESC, id LIMIT 1"),
        "topic_id": one("MATCH (t:Topic)<-[:IN_TOPIC]-() WHERE t.namespace = $namespace "
                        "RETURN t.id AS id, count(*) AS n ORDER BY n DESC, id LIMIT 1"),
        "episode_id": one("MATCH (e:Episode) WHERE e.namespace = $namespace RETURN e.id AS id ORDER BY e.start_seq LIMIT 1"),
    }


def _body(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))


def _params_for(recipe: Recipe, params: dict) -> dict:
    missing = [p for p in recipe.parameters if p not in params]
    assert not missing, f"{recipe.name}: give ${', $'.join(missing)} a value in recipe_params()"
    return {p: params[p] for p in recipe.parameters}


def _expects_rows(recipe: Recipe) -> bool:
    """Health checks ("... in a healthy store") answer nothing on a clean store; the others answer something."""
    return "healthy store" not in recipe.description


def _run(garden, backend: str, recipe: Recipe) -> list[dict]:
    memory = garden.memories[backend]
    return memory.cypher(recipe.text, _params_for(recipe, garden.params[backend]))


def _normal(rows: list[dict]) -> list[str]:
    """Rows comparable across backends: floats rounded, lists sorted, row order ignored."""
    def value(v):
        if isinstance(v, float):
            return round(v, 4)
        if isinstance(v, list):
            return sorted((value(x) for x in v), key=lambda x: json.dumps(x, sort_keys=True, default=str))
        if isinstance(v, dict):
            return {k: value(x) for k, x in v.items()}
        return v

    return sorted(json.dumps({k: value(v) for k, v in row.items()}, sort_keys=True, default=str) for row in rows)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("recipe", RECIPES, ids=[r.name for r in RECIPES])
def test_recipe_answers(garden, backend, recipe):
    rows = _run(garden, backend, recipe)
    if not _expects_rows(recipe):
        assert rows == [], f"{recipe.name} on {backend}: {rows}"
        return
    assert rows, f"{recipe.name} on {backend} answered nothing"
    keys = set(rows[0])
    assert all(set(row) == keys for row in rows), recipe.name
    ids = json.dumps(rows)
    assert garden.namespace not in ids  # rows show memories, not the tenant key
    check = EXPECTED.get(recipe.name)
    if check is not None:
        check(rows, garden.params[backend], garden.memories[backend])


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.name for r in RECIPES])
def test_recipe_gives_the_same_answer_on_both_backends(garden, recipe):
    embedded, bolt = (_run(garden, b, recipe) for b in BACKEND_NAMES)
    assert len(embedded) == len(bolt), recipe.name
    assert [sorted(r) for r in embedded] == [sorted(r) for r in bolt], recipe.name
    assert _normal(embedded) == _normal(bolt), recipe.name


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_recipes_run_from_the_cli_by_file(garden, backend, tmp_path):
    """``graphmem cypher --file cypher/inspect/<recipe>.cypher --param k=v`` as the README shows it."""
    spec = garden.backends[backend]
    where = ["--store", spec.location]
    if spec.is_bolt:
        where += ["--user", spec.auth[0], "--password", spec.auth[1], "--database", spec.database]
    runner = CliRunner()
    for recipe in RECIPES:
        params = _params_for(recipe, garden.params[backend])
        args = ["cypher", "--file", str(INSPECT.joinpath(f"{recipe.name}.cypher")), "--namespace", garden.namespace, "--json"]
        for key, value in params.items():
            if key != "namespace":
                args += ["--param", f"{key}={value}"]
        result = runner.invoke(app, args + where, catch_exceptions=False)
        assert result.exit_code == 0, (recipe.name, result.output)
        assert _normal(json.loads(result.stdout)) == _normal(_run(garden, backend, recipe)), recipe.name


DEFECTS = """
CREATE (:Turn {namespace: $namespace, id: 'turn:defect-1', conversation_id: 'broken', seq: 7, text: 'lost'}),
       (:Turn {namespace: $namespace, id: 'turn:defect-2', conversation_id: 'broken', seq: 7, text: 'lost too'}),
       (:Entity {namespace: $namespace, id: 'entity:defect-1', key: 'twin', name: 'Twin'}),
       (:Entity {namespace: $namespace, id: 'entity:defect-2', key: 'twin', name: 'twin'}),
       (:Session {namespace: $namespace, id: 'session:defect-1', key: '9'}),
       (:Conversation {namespace: $namespace, id: 'conversation:defect-1', key: 'empty', speakers: ['Quiet Person']}),
       (:Entity {namespace: $namespace, id: 'entity:defect-3', key: 'quiet person', name: 'Quiet Person'})
"""


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_health_recipes_report_a_damaged_store(garden, backend, tmp_path):
    """The checks that answer nothing on the clean store do find problems when there are some."""
    spec = garden.backends[backend]
    with memories(spec, settings_for(tmp_path)) as factory:
        damaged = factory(garden.namespace + "-damaged")
        damaged.cypher(DEFECTS, write=True)
        by_name = {r.name: r for r in RECIPES}
        orphans = {r["problem"]: r["count"] for r in damaged.cypher(by_name["orphans"].text)}
        # (a session with no turn and a conversation with no session were not counted; a speaker's
        # entity with no event, which check accepts, is not counted either)
        assert orphans == {"Turn without Session": 2, "Turn without Episode": 2, "Entity in no Event (and no speaker)": 2,
                           "Session without Conversation": 1, "Session without Turns": 1, "Conversation without Sessions": 1}
        duplicates = {(r["kind"], r["what"]): r["copies"] for r in damaged.cypher(by_name["duplicates"].text)}
        assert duplicates == {("Entity", "twin"): 2, ("Turn", "broken #7"): 2}
        assert not garden.memories[backend].cypher(by_name["orphans"].text)  # the clean namespace is untouched


# ---------------------------------------------------------------------------- per-recipe expectations
def _entity_profile(rows, params, memory):
    assert len(rows) == 1 and rows[0]["name"] == SPEAKER and rows[0]["events"] > 0


def _entity_episodes(rows, params, memory):
    episodes = {r["id"] for r in memory.cypher("MATCH (e:Episode) WHERE e.namespace = $namespace RETURN e.id AS id")}
    assert {r["episode"] for r in rows} <= episodes and all(r["mentions"] > 0 for r in rows)


def _speaker_timeline(rows, params, memory):
    said = {t["id"] for s in GARDEN["sessions"] for t in s["turns"] if t["speaker"] == SPEAKER}
    assert {r["source_id"] for r in rows} <= said and len(rows) <= params["limit"]


def _associations(rows, params, memory):
    assert all(r["id"] != params["id"] and r["weight"] is not None for r in rows)
    assert [r["weight"] for r in rows] == sorted((r["weight"] for r in rows), reverse=True)


def _topics(rows, params, memory):
    assert params["topic_id"] in {r["topic_id"] for r in rows} and all(r["members"] > 0 for r in rows)
    for row in rows:  # members now: the topic's IN_TOPIC edges (its fitted size is the count at the fit)
        members = memory.cypher("MATCH (u)-[:IN_TOPIC]->(t:Topic {id: $id}) RETURN count(u) AS n", {"id": row["topic_id"]})
        assert row["members"] == members[0]["n"] and row["fitted_size"] >= 0


def _topic_members(rows, params, memory):
    assert all(0.0 <= r["p"] <= 1.0 + 1e-9 for r in rows)
    assert [r["p"] for r in rows] == sorted((r["p"] for r in rows), reverse=True)


def _conversations(rows, params, memory):
    turns = sum(len(s["turns"]) for s in GARDEN["sessions"])
    assert [(r["conversation"], r["sessions"], r["messages"]) for r in rows] == [(GARDEN["id"], len(GARDEN["sessions"]), turns)]


EXPECTED = {
    "conversations": _conversations,
    "entity_profile": _entity_profile,
    "entity_episodes": _entity_episodes,
    "speaker_timeline": _speaker_timeline,
    "associations": _associations,
    "topics": _topics,
    "topic_members": _topic_members,
}
