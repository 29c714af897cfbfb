"""Pictures of a memory (matplotlib figures) for notebooks and the README.

matplotlib is imported lazily; install it with ``pip install "graphmem[notebooks]"``.
Every function returns a ``matplotlib.figure.Figure`` and draws nothing on screen itself.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from graphmem.errors import ConfigurationError, InputError
from graphmem.explore import short

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

    from graphmem.hits import Hit
    from graphmem.memory import Memory

__all__ = ["draw_graph", "plot_episode_timeline", "plot_topic_map", "plot_explanation", "KIND_COLOURS"]

logger = logging.getLogger(__name__)

KIND_COLOURS = {
    "entity": "#e4572e", "event": "#17bebb", "turn": "#76b041", "episode": "#ffc914",
    "session": "#9c89b8", "topic": "#f0a6ca", "seed": "#2e282a", "hit": "#c1121f", "node": "#bbbbbb",
}


def _pyplot():
    try:
        import matplotlib.pyplot as plt  # the backend is the caller's choice (inline in Jupyter, Agg headless)
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise ConfigurationError("plots need matplotlib: pip install 'graphmem[notebooks]'") from exc
    return plt


def draw_graph(graph: "nx.MultiDiGraph", title: str | None = None, seed: int = 7, figsize=(9, 7)):
    """Draw a subgraph from :meth:`Memory.to_networkx`, nodes coloured by kind."""
    import networkx as nx

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=figsize)
    if graph.number_of_nodes() == 0:
        ax.text(0.5, 0.5, "empty graph", ha="center")
        return fig
    simple = nx.Graph(graph)
    pos = nx.spring_layout(simple, seed=seed, k=1.2 / max(1, len(simple)) ** 0.5)
    kinds = [graph.nodes[n].get("kind", "node") for n in graph.nodes]
    nx.draw_networkx_edges(simple, pos, ax=ax, alpha=0.35, width=1.0)
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=[KIND_COLOURS.get(k, "#bbbbbb") for k in kinds],
                           node_size=[650 if k in ("entity", "hit", "episode") else 260 for k in kinds], alpha=0.9)
    nx.draw_networkx_labels(graph, pos, ax=ax, labels={n: short(graph.nodes[n].get("label", n), 28) for n in graph.nodes}, font_size=7)
    for kind in dict.fromkeys(kinds):
        ax.scatter([], [], color=KIND_COLOURS.get(kind, "#bbbbbb"), label=kind)
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    ax.set_title(title or graph.graph.get("kind", "subgraph"))
    ax.axis("off")
    fig.tight_layout()
    return fig


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def plot_episode_timeline(memory: "Memory", conversation: str | None = None, figsize=(11, 4)):
    """Episodes along time, one row per speaker; bar width ∝ the speaker's turns in the episode."""
    plt = _pyplot()
    rows = memory.store.read("read/episode_timeline", {"namespace": memory.namespace})
    if conversation is not None:
        rows = [r for r in rows if r["conversation"] == conversation]
    if not rows:
        raise InputError("no episodes to draw (ingest a conversation first)")
    speakers = sorted({r["speaker"] for r in rows})
    episodes = list(dict.fromkeys(r["episode_id"] for r in rows))
    start = {r["episode_id"]: (_when(r["started_at"]), r["session"], r["start_seq"]) for r in rows}
    use_time = all(v[0] is not None for v in start.values())
    x_of = {e: (start[e][0] if use_time else i) for i, e in enumerate(episodes)}
    fig, ax = plt.subplots(figsize=figsize)
    colours = plt.get_cmap("tab10")
    for row in rows:
        y = speakers.index(row["speaker"])
        size = 40 + 25 * row["turns"]
        ax.scatter(x_of[row["episode_id"]], y, s=size, color=colours(y % 10), alpha=0.6, edgecolor="k", linewidth=0.3)
    ax.set_yticks(range(len(speakers)), speakers)
    ax.set_xlabel("episode start" if use_time else "episode (conversation order)")
    ax.set_title(f"episode timeline per speaker · {len(episodes)} episodes · namespace {memory.namespace!r}")
    ax.grid(axis="x", alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def plot_topic_map(memory: "Memory", granularity: str = "turn", max_labels: int = 8, figsize=(9, 7)):
    """A 2-D projection (PCA) of one granularity's embeddings, coloured by each unit's strongest GMM topic."""
    plt = _pyplot()
    rows = memory.store.read("read/topic_map", {"namespace": memory.namespace, "granularity": granularity})
    rows = [r for r in rows if r.get("embedding")]
    if len(rows) < 2:
        raise InputError(f"no {granularity} topics to draw (ingest a conversation first)")
    matrix = np.asarray([r["embedding"] for r in rows], dtype=np.float64)
    centred = matrix - matrix.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ vt[:2].T
    topics = list(dict.fromkeys(r["topic_id"] for r in rows))
    sizes = {t: sum(1 for r in rows if r["topic_id"] == t) for t in topics}
    topics.sort(key=lambda t: -sizes[t])
    labels = {r["topic_id"]: r["topic_label"] for r in rows}
    cmap = plt.get_cmap("tab20")
    fig, ax = plt.subplots(figsize=figsize)
    for i, topic in enumerate(topics):
        mask = np.array([r["topic_id"] == topic for r in rows])
        ax.scatter(xy[mask, 0], xy[mask, 1], s=18, color=cmap(i % 20), alpha=0.75,
                   label=f"{short(labels[topic], 40)} ({sizes[topic]})" if i < max_labels else None)
    ax.legend(fontsize=7, loc="best", frameon=False, title=f"largest of {len(topics)} topics", title_fontsize=8)
    ax.set_title(f"{granularity} topic map · {len(rows)} units · PCA of embeddings")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    return fig


def plot_explanation(memory: "Memory", hit: "Hit", figsize=(12, 5)):
    """Why this memory: strategy contributions (bars) beside the activation/expansion path (graph)."""
    import networkx as nx

    plt = _pyplot()
    graph = memory.to_networkx(hit=hit)
    contributions = _contributions(hit.explanation)
    fig, (bars, ax) = plt.subplots(1, 2, figsize=figsize, gridspec_kw={"width_ratios": [1, 2]})
    if contributions:
        names = list(contributions)
        bars.barh(names, [contributions[n] for n in names], color="#17bebb")
        bars.invert_yaxis()
    bars.set_title("contribution per strategy")
    simple = nx.Graph(graph)
    pos = nx.spring_layout(simple, seed=3)
    kinds = [graph.nodes[n].get("kind", "node") for n in graph.nodes]
    nx.draw_networkx_edges(simple, pos, ax=ax, alpha=0.4)
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=[KIND_COLOURS.get(k, "#bbbbbb") for k in kinds], node_size=420)
    nx.draw_networkx_labels(graph, pos, ax=ax, labels={n: short(graph.nodes[n].get("label", n), 26) for n in graph.nodes}, font_size=7)
    ax.set_title(f"why: {short(hit.text, 70)}")
    ax.axis("off")
    fig.tight_layout()
    return fig


def _contributions(explanation: Any) -> dict[str, float]:
    """Numeric per-strategy contributions from an explanation, whatever its nesting."""
    if not isinstance(explanation, dict):
        return {}
    found = explanation.get("contributions")
    if isinstance(found, dict):
        return {str(k): float(v) for k, v in found.items() if isinstance(v, (int, float))}
    out = {}
    for key, value in explanation.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[str(key)] = float(value)
        elif isinstance(value, dict):
            for inner in ("contribution", "score", "weight", "cosine"):
                if isinstance(value.get(inner), (int, float)):
                    out[str(key)] = float(value[inner])
                    break
    return out
