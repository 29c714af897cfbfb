"""Access to the files shipped inside the package: Cypher statements and JSON schemas."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from graphmem.errors import ConfigurationError

__all__ = ["query_text", "query_names", "schema", "QUERY_NAME", "Recipe", "recipes"]

QUERY_NAME = re.compile(r"^[a-z0-9_]+(/[a-z0-9_]+)*$")


def _cypher_root():
    return resources.files("graphmem").joinpath("cypher")


@lru_cache(maxsize=None)
def query_names() -> tuple[str, ...]:
    """Every shipped query name, e.g. ``"write/merge_turns"``, sorted."""
    names: list[str] = []

    def walk(node, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(".cypher"):
                names.append(prefix + child.name[: -len(".cypher")])

    walk(_cypher_root(), "")
    return tuple(sorted(names))


@lru_cache(maxsize=None)
def query_text(name: str) -> str:
    """The Cypher text of the shipped query ``name`` (e.g. ``"read/count_nodes"``).

    Comment lines (``//``) are kept: both Neo4j and ArcadeDB accept them.

    Raises:
        ConfigurationError: no such query.
    """
    if not QUERY_NAME.match(name):
        raise ConfigurationError(f"invalid query name {name!r}")
    node = _cypher_root().joinpath(*f"{name}.cypher".split("/"))
    if not node.is_file():
        raise ConfigurationError(f"no shipped query named {name!r}")
    text = node.read_text(encoding="utf-8").strip()
    if not text:
        raise ConfigurationError(f"query {name!r} is empty")
    return text


@lru_cache(maxsize=None)
def schema(name: str) -> dict[str, Any]:
    """A shipped JSON schema by file name, e.g. ``"conversation.schema.json"``."""
    node = resources.files("graphmem").joinpath("schemas", name)
    if not node.is_file():
        raise ConfigurationError(f"no shipped schema named {name!r}")
    return json.loads(node.read_text(encoding="utf-8"))


class Recipe:
    """An inspection query under ``cypher/inspect/``: its name, what it answers, its parameters.

    The header comment says it all: the first line is what the recipe answers, and the
    ``Parameters:`` line names each ``$parameter``, with ``(default V)`` after those that
    have a default (V read as JSON when it can be: ``$limit (default 50)``).
    """

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        header = [line.strip()[2:].strip() for line in text.splitlines() if line.strip().startswith("//")]
        self.description = header[0] if header else ""
        params = next((line for line in header if line.lower().startswith("parameters:")), "")
        self.parameters = tuple(dict.fromkeys(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", params)))
        self.defaults: dict[str, Any] = {}
        for key, raw in re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)\s*\([^)]*?\bdefault\s+([^,;)\s]+)", params):
            try:
                self.defaults[key] = json.loads(raw)
            except json.JSONDecodeError:
                self.defaults[key] = raw


def recipes() -> list[Recipe]:
    """Every shipped inspection recipe, sorted by name."""
    return [Recipe(name.split("/", 1)[1], query_text(name)) for name in query_names() if name.startswith("inspect/")]
