"""Packaging: shipped Cypher and schemas load from the installed package; the public surface is pinned."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

import graphmem
from graphmem.errors import ConfigurationError
from graphmem.resources import query_names, query_text, schema

REPO = Path(__file__).resolve().parent.parent


def test_public_api_is_pinned():
    assert sorted(graphmem.__all__) == sorted([
        "AddReport", "AsyncClient", "AsyncMemory", "Client", "ClosedError", "ConfigurationError", "ConversationRecord", "GraphmemError", "Hit", "IngestReport",
        "InputError", "Memory", "QueryTimeoutError", "SessionRecord", "Settings", "StorageError", "StoreUnavailableError",
        "TurnRecord", "__version__",
    ])
    for name in graphmem.__all__:
        assert hasattr(graphmem, name)
        if name != "__version__":
            assert getattr(graphmem, name).__doc__, f"{name} has no docstring"


def test_every_query_loads_from_the_installed_package():
    root = resources.files("graphmem").joinpath("cypher")
    assert root.is_dir()
    names = query_names()
    assert {"write/merge_turns", "read/hydrate_turns", "read/count_nodes"} <= set(names)
    for name in names:
        text = query_text(name)
        assert text.strip(), name
        body = [line for line in text.splitlines() if line.strip() and not line.strip().startswith("//")]
        assert body, f"{name} has no statement"
        assert ";" not in "\n".join(body).rstrip(";"), f"{name} holds more than one statement"
    if (REPO / "cypher").is_dir():  # running from a checkout: the wheel ships every file
        on_disk = sorted(str(p.relative_to(REPO / "cypher").with_suffix("")) for p in (REPO / "cypher").rglob("*.cypher"))
        assert sorted(names) == on_disk


def test_writes_are_batched_and_parameterised():
    for name in query_names():
        if name.startswith("write/"):
            assert query_text(name).count("UNWIND $rows AS row") == 1, name


def test_no_pattern_predicate_starts_at_an_unbound_node():
    """``WHERE NOT (:Turn)-[:NEXT]->(t)`` made ArcadeDB scan every turn of the store for each row (31 s
    for a 503-turn namespace of a 5,800-turn store; ``check`` unfinished after 7 minutes at 100,000
    turns): a pattern predicate starts at the bound node, ``NOT (t)<-[:NEXT]-(:Turn)``. (An
    ``EXISTS { MATCH ... }`` subquery is planned from the bound node either way.)"""
    unbound = re.compile(r"(?:NOT|AND|OR|WHERE)\s+\((?::\w+)?\)\s*<?-")
    for name in query_names():
        text = "\n".join(line.split("//")[0] for line in query_text(name).splitlines())
        assert not unbound.search(text), (name, unbound.search(text))


#: queries that read every relationship of a namespace from any start node on purpose
WHOLE_NAMESPACE_EDGE_SCANS = {"check/cross_namespace_edges", "check/duplicate_relationships", "read/count_relationships",
                              "read/schema_relationship_keys"} | {f"check/properties_{r}" for r in (
                                  "alias_of", "associated", "in_topic", "involves", "within")}


def test_no_match_starts_at_an_unbound_unlabelled_node():
    """``MATCH (u)-[r:IN_TOPIC]->(t:Topic {id: $topic_id})`` made ArcadeDB scan every node of the store
    for the topic's members (3.7-5.2 s at 100,000 turns, 0.1 s from the topic), and so did a node
    given only properties (the ``associations`` recipe's ``(m {id: $id})``, 0.44 s): a pattern starts
    at a node bound before it or labelled; only the whole-namespace edge scans start anywhere."""
    start = re.compile(r"\b(?:OPTIONAL\s+)?MATCH\s+\((\w+)\s*(?:\{[^}]*\})?\)\s*<?-")
    for name in query_names():
        text = "\n".join(line.split("//")[0] for line in query_text(name).splitlines())
        unbound = [m.group(0) for m in start.finditer(text) if not re.search(rf"\b{m.group(1)}\b", text[:m.start()])]
        assert not unbound or name in WHOLE_NAMESPACE_EDGE_SCANS, (name, unbound)


def test_unknown_or_malicious_query_names_are_refused():
    for bad in ("read/nope", "../etc/passwd", "read/count_nodes; DROP"):
        with pytest.raises(ConfigurationError):
            query_text(bad)


def test_native_schema_ships():
    doc = schema("conversation.schema.json")
    assert doc["$defs"]["turn"]["required"] == ["speaker", "text"]


def test_the_package_loads_its_public_names_on_first_use():
    """``import graphmem.errors`` (and the command's entry module) does not import the engine: the
    ``graphmem`` command can guard the import of its modules against a Ctrl-C."""
    code = (
        "import sys, graphmem.errors, graphmem.__main__\n"
        "assert 'graphmem.memory' not in sys.modules and 'torch' not in sys.modules, sorted(sys.modules)\n"
        "import graphmem\n"
        "assert graphmem.Memory is sys.modules['graphmem.memory'].Memory\n"
        "assert set(graphmem.__all__) <= set(dir(graphmem)) and '__file__' in dir(graphmem)\n"
        "print(graphmem.errors.InputError is graphmem.InputError)\n"  # a submodule, as the eager package gave it
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        graphmem.Nothing  # noqa: B018


def test_a_ctrl_c_while_the_command_loads_is_an_interruption_not_a_traceback():
    """A Ctrl-C in the first half second of ``graphmem ...`` arrived while its modules were imported
    and printed the import's traceback. The KeyboardInterrupt is raised here by an import hook at
    the point the command imports the engine, as the signal raises it there."""
    code = (
        "import sys\n"
        "class Stop:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'graphmem.memory':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Stop())\n"
        "sys.argv = ['graphmem', 'stats']\n"
        "from graphmem.__main__ import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 130, (done.returncode, done.stderr)
    assert done.stderr.strip() == "interrupted" and "Traceback" not in done.stderr
