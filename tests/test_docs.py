"""Docs a user can follow (issue 17, item 9): the README's CLI synopsis lists exactly the commands
and options the CLI registers, the architecture page lives in the repository, and nothing points
outside it."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from graphmem.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])")


def _registered() -> dict[str, list[tuple[str, ...]]]:
    """``"eval locomo"`` -> the option spellings of each registered option (``--help`` aside)."""
    group = typer.main.get_command(app)
    context = None  # list_commands/get_command of a typer group do not read the context
    found: dict[str, list[tuple[str, ...]]] = {}

    def walk(command, path: list[str]) -> None:
        if hasattr(command, "list_commands"):
            for name in command.list_commands(context):
                walk(command.get_command(context, name), [*path, name])
            return
        found[" ".join(path)] = [tuple(p.opts) for p in command.params if p.param_type_name == "option"]

    walk(group, [])
    return found


def _synopsis() -> dict[str, set[str]]:
    block = re.search(r"## CLI\n\n```text\n(.*?)\n```", README, re.S)
    assert block, "README has no CLI synopsis block"
    bolt = re.search(r"`BOLT` stands for `([^`]*)`", README)
    assert bolt, "README does not say what BOLT stands for"
    registered = _registered()
    lines: dict[str, set[str]] = {}
    for line in block.group(1).splitlines():
        words = line.split()
        assert words[0] == "graphmem", line
        path = next(" ".join(words[1:n]) for n in (3, 2) if " ".join(words[1:n]) in registered)
        lines[path] = set(OPTION.findall(line.replace("[BOLT]", bolt.group(1))))
    return lines


def test_the_synopsis_lists_every_command_and_option_the_cli_registers():
    registered, documented = _registered(), _synopsis()
    assert set(documented) == set(registered), "commands in the synopsis differ from the CLI's"
    for path, options in registered.items():
        for spellings in options:
            assert documented[path] & set(spellings), f"graphmem {path}: {spellings[0]} missing from the README synopsis"
        known = {s for spellings in options for s in spellings}
        assert documented[path] <= known, f"graphmem {path}: the synopsis names {documented[path] - known}, which do not exist"


def test_the_readme_points_only_inside_the_repository():
    assert "../shared" not in README and "/work/" not in README
    for target in re.findall(r"\]\(((?!https?://|#)[^)]+)\)", README):
        assert (ROOT / target).exists(), f"README links {target}, which is not in the repository"
    assert "(docs/architecture.md)" in README


def test_the_architecture_page_is_in_the_repository_and_self_contained():
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert page.startswith("# graphmem") and "## Retrieval" in page and "## Storage" in page
    assert "../shared" not in page and "/work/" not in page


def test_the_readme_says_where_to_download_the_benchmarks():
    assert "github.com/snap-research/locomo" in README and "data/locomo10.json" in README
    assert "github.com/xiaowu0162/LongMemEval" in README and "xiaowu0162/longmemeval" in README


def test_the_neo4j_schema_paragraph_names_every_constraint_and_index_shipped():
    """The README said seven constraints and eight indexes while graphmem applied 11 of each (a DBA
    creating the schema from it would have missed the Turn.slot constraint two writers rely on)."""
    start = README.index("- Schema, applied idempotently on open")
    paragraph = " ".join(README[start:README.index("\n- ", start + 1)].split())
    statements = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "graphmem" / "cypher" / "schema").glob("*.cypher"))]
    found = [re.search(r"CREATE (CONSTRAINT|INDEX) \w+ IF NOT EXISTS FOR \(n:(\w+)\) (?:REQUIRE|ON) \(?n\.(\w+)", s) for s in statements]
    assert all(found), "a schema statement of another shape"
    kinds = [m.group(1) for m in found if m]
    assert f"{kinds.count('CONSTRAINT')} uniqueness constraints" in paragraph and f"{kinds.count('INDEX')} indexes" in paragraph
    for m in found:
        kind, label, prop = m.groups()  # type: ignore[union-attr]
        named = label in paragraph if prop in ("id", "namespace") else f"`{label}.{prop}`" in paragraph
        assert named, f"the README's schema paragraph does not name {kind} {label}.{prop}"
