"""The interactive view of a subgraph: what the browser draws, and the JavaScript that draws it.

A *view spec* is a JSON-ready dict built from a networkx subgraph (see
:mod:`graphmem.explore.subgraphs`): cytoscape.js nodes and edges with positions, colours by
kind, edge labels, the hit path marked, and each node's stored properties (embeddings left out)
for the property panel. The same spec and the same JavaScript serve the Jupyter widget
(:mod:`graphmem.explore.widget`) and the standalone HTML page (:mod:`graphmem.explore.html`).

The JavaScript is cytoscape.js (MIT, vendored in ``static/`` with its licence) and
``static/graphview.js``; nothing is fetched from the network.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from datetime import date, datetime
from importlib import resources
from typing import Any, Mapping

import networkx as nx

from graphmem.errors import ConfigurationError
from graphmem.explore.subgraphs import columns_layout, short
from graphmem.store import GraphStore

__all__ = ["KIND_COLOURS", "build_spec", "graph_spec", "javascript", "hit_caption", "node_properties", "stylesheet", "view_title"]

logger = logging.getLogger(__name__)

KIND_COLOURS = {
    "entity": "#e4572e", "event": "#17bebb", "turn": "#76b041", "episode": "#ffc914",
    "session": "#9c89b8", "conversation": "#5c80bc", "topic": "#f0a6ca", "seed": "#2e282a", "hit": "#c1121f",
    "node": "#bbbbbb",
}
"""Node colour per kind, shared by the static pictures and the interactive view."""

# kind -> the named query that reads that label's stored properties (an allow-list: kinds
# come from the subgraph, never from user text).
_PROPERTY_QUERIES = {kind: f"read/node_properties_{kind}" for kind in
                     ("entity", "event", "turn", "episode", "session", "conversation", "topic")}
_MAX_TEXT = 1200  # characters of a property value shown in the panel
_MAX_LIST = 20    # items of a list property shown in the panel
_NODE_SIZE = {"hit": 46, "entity": 38, "episode": 38, "conversation": 46, "session": 34}
_SPACING = 110.0  # pixels between neighbouring nodes of the computed layout
KAMADA_KAWAI_MAX_NODES = 60
"""Up to this many nodes the layout is Kamada-Kawai (clearer, but 6 s for 151 nodes on a loaded
2-core machine), above it a seeded spring layout (tens of ms)."""


def _clean(value: Any) -> Any:
    """A property value as JSON the panel can show: long text cut, long lists cut, odd types as text."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value if len(value) <= _MAX_TEXT else value[: _MAX_TEXT - 1] + "…"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        items = list(value)
        cleaned = [_clean(v) for v in items[:_MAX_LIST]]
        return cleaned + [f"… {len(items) - _MAX_LIST} more"] if len(items) > _MAX_LIST else cleaned
    return str(value)


def _shown(key: str) -> bool:
    """Embeddings (hundreds of floats) are left out of the panel."""
    return "embedding" not in key.lower()


def node_properties(store: GraphStore, namespace: str, graph: nx.MultiDiGraph) -> dict[str, dict[str, Any]]:
    """The stored properties of the graph's nodes, by node id, read with one named query per kind.

    Nodes whose kind has no stored label (or that the store does not hold) get no entry.
    Embeddings are left out.
    """
    ids_by_kind: dict[str, list[str]] = {}
    for node, data in graph.nodes(data=True):
        kind = data.get("unit") if data.get("kind") == "hit" else data.get("kind")
        if kind in _PROPERTY_QUERIES:
            ids_by_kind.setdefault(kind, []).append(str(node))
    found: dict[str, dict[str, Any]] = {}
    for kind, ids in ids_by_kind.items():
        for row in store.read(_PROPERTY_QUERIES[kind], {"namespace": namespace, "ids": ids}):
            props = row.get("properties") or {}
            found[row["id"]] = {str(k): _clean(v) for k, v in props.items() if _shown(str(k))}
    return found


def _positions(graph: nx.MultiDiGraph) -> dict[Any, tuple[float, float]]:
    """Pixel positions: columns by hops to the hit for an explanation, a force layout otherwise."""
    if graph.number_of_nodes() == 0:
        return {}
    root = graph.graph.get("root")
    if graph.graph.get("kind") == "explanation" and root in graph:
        pos, _ = columns_layout(graph, root)
        return {n: (x * 2.4 * _SPACING, -y * _SPACING) for n, (x, y) in pos.items()}
    simple = nx.Graph(graph)
    if len(simple) == 1:
        return {n: (0.0, 0.0) for n in simple}
    if len(simple) <= KAMADA_KAWAI_MAX_NODES:
        pos = nx.kamada_kawai_layout(simple, weight=None)
    else:
        pos = nx.spring_layout(simple, seed=7, weight=None, k=1.5 / math.sqrt(len(simple)))
    scale = _SPACING * math.sqrt(len(simple)) * 0.6
    return {n: (float(x) * scale, -float(y) * scale) for n, (x, y) in pos.items()}


def _edge_label(data: Mapping[str, Any]) -> str:
    label = str(data.get("type", "edge"))
    if data.get("role"):
        label += f" ({data['role']})"
    if isinstance(data.get("weight"), (int, float)) and data["weight"]:
        label += f" {data['weight']:.2g}"
    if data.get("turns"):
        label += f" ({data['turns']} turns)"
    return label


def graph_spec(graph: nx.MultiDiGraph, properties: Mapping[str, Mapping[str, Any]] | None = None,
               title: str | None = None, height: int = 560, caption: str | None = None) -> dict[str, Any]:
    """The view spec of ``graph`` (pure: no store access).

    Args:
        graph: a subgraph from :mod:`graphmem.explore.subgraphs` (nodes with ``kind`` and ``label``,
            edges with ``type``).
        properties: stored properties by node id (from :func:`node_properties`), shown on click.
        title: the heading; defaults to the graph's kind.
        height: the drawing's height in pixels.
        caption: a line of text under the heading (for a hit: its text and contributions).

    Returns:
        ``{"title", "caption", "height", "kind", "root", "colours", "nodes", "edges"}`` where nodes and edges
        are cytoscape.js element dicts (``{"data": {...}, "position": {...}}``).
    """
    properties = properties or {}
    root = graph.graph.get("root")
    explanation = graph.graph.get("kind") == "explanation"
    positions = _positions(graph)
    nodes = []
    kinds: list[str] = []
    for node, data in graph.nodes(data=True):
        kind = str(data.get("kind", "node"))
        kinds.append(kind)
        view = {k: _clean(v) for k, v in data.items() if k not in ("label", "kind") and v is not None}
        props = {"id": str(node), "kind": kind, **view, **properties.get(str(node), {})}
        label = str(data.get("label") or node)
        if node == root and explanation:
            label = "HIT: " + label
        elif data.get("seed_weight") is not None:
            label += f" · seed {float(data['seed_weight']):.2f}"
        x, y = positions.get(node, (0.0, 0.0))
        nodes.append({"data": {
            "id": str(node), "label": short(label, 60), "kind": kind,
            "colour": KIND_COLOURS.get(kind, KIND_COLOURS["node"]), "size": _NODE_SIZE.get(kind, 26),
            "seed": bool(data.get("seed")), "root": node == root, "props": props,
        }, "position": {"x": round(x, 2), "y": round(y, 2)}})
    edges = []
    for i, (source, target, data) in enumerate(graph.edges(data=True)):
        weight = data.get("weight")
        edges.append({"data": {
            "id": f"edge{i}", "source": str(source), "target": str(target), "type": str(data.get("type", "edge")),
            "label": _edge_label(data), "path": explanation,
            "props": {"type": str(data.get("type", "edge")), **{k: _clean(v) for k, v in data.items() if k != "type"}},
            "width": 1.5 + (3.5 * float(weight) if explanation and isinstance(weight, (int, float)) else 0.0),
        }})
    if explanation and edges:  # widths relative to the heaviest edge on the path
        heaviest = max(e["data"]["width"] for e in edges) - 1.5 or 1.0
        for edge in edges:
            edge["data"]["width"] = round(2.0 + 4.0 * (edge["data"]["width"] - 1.5) / heaviest, 2)
    return {
        "title": title or str(graph.graph.get("kind", "subgraph")), "caption": caption, "height": int(height),
        "kind": graph.graph.get("kind"), "root": None if root is None else str(root),
        "colours": {k: KIND_COLOURS.get(k, KIND_COLOURS["node"]) for k in dict.fromkeys(kinds)},
        "nodes": nodes, "edges": edges,
    }


def view_title(graph: nx.MultiDiGraph) -> str:
    """A heading for a subgraph: what it is centred on."""
    kind = graph.graph.get("kind", "subgraph")
    root = graph.graph.get("root")
    label = graph.nodes[root].get("label") if root in graph else None
    if kind == "explanation":
        return f"why this memory: {label or root}"
    if kind == "entity":
        return f"entity {label}: the events it takes part in"
    if kind == "episode":
        return f"{label or 'episode'}: its turns, events and entities"
    if kind == "conversation":
        return f"{label or 'conversation'}: sessions and episodes"
    return str(kind)


def build_spec(store: GraphStore, namespace: str, graph: nx.MultiDiGraph, title: str | None = None,
               height: int = 560, caption: str | None = None) -> dict[str, Any]:
    """:func:`graph_spec` with each node's stored properties read from ``store``."""
    return graph_spec(graph, node_properties(store, namespace, graph), title=title, height=height, caption=caption)


def hit_caption(hit: Any) -> str:
    """One line about a hit: who said what, and the score each strategy contributed."""
    who = f"{hit.speaker}: " if getattr(hit, "speaker", None) else ""
    explanation = getattr(hit, "explanation", None)
    found = explanation.get("contributions") if isinstance(explanation, Mapping) else None
    parts = [f"{name} {value:.3g}" for name, value in (found or {}).items() if isinstance(value, (int, float))]
    line = f"\u201c{who}{short(hit.text, 160)}\u201d \u00b7 score {hit.score:.3g}"
    return line + (" \u00b7 " + ", ".join(parts) if parts else "")


def _static(name: str) -> str:
    return resources.files("graphmem.explore").joinpath("static", name).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def javascript() -> str:
    """The drawing code as one classic script (no imports, no exports, no network).

    Defines ``graphmemCytoscape`` (the vendored cytoscape.js ES module, wrapped in a function so
    the same text runs as a classic ``<script>`` and inside the widget's ES module) and
    ``graphmemRender(element, spec, cytoscape, onSelect)``.
    """
    source = _static("cytoscape.esm.min.js")
    export = re.search(r"export\s*\{\s*([\w$]+)\s+as\s+default\s*\}\s*;?\s*$", source)
    if export is None:
        raise ConfigurationError("the vendored cytoscape.esm.min.js does not end with its default export")
    notice = "/*! cytoscape.js 3.35.0 (https://js.cytoscape.org), MIT licence:\n" + _static("cytoscape.LICENSE.txt") + "*/\n"
    wrapped = (notice + "var graphmemCytoscape = (function () {\n\"use strict\";\n" + source[: export.start()]
               + f"\nreturn {export.group(1)};\n}})();\n")
    return wrapped + _static("graphview.js")


@functools.lru_cache(maxsize=1)
def stylesheet() -> str:
    """The CSS of the view (toolbar, legend, property panel)."""
    return _static("graphview.css")
