"""Pictures of a memory (matplotlib figures) for notebooks and the README.

matplotlib is imported lazily; install it with ``pip install "graphmem[notebooks]"``.
Every function returns a ``matplotlib.figure.Figure`` and draws nothing on screen itself.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
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
    pos = nx.spring_layout(simple, seed=seed, k=1.2 / max(1, len(simple)) ** 0.5, weight=None)
    kinds = [graph.nodes[n].get("kind", "node") for n in graph.nodes]
    nx.draw_networkx_edges(simple, pos, ax=ax, alpha=0.35, width=1.0)
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=[KIND_COLOURS.get(k, "#bbbbbb") for k in kinds],
                           node_size=[650 if k in ("entity", "hit", "episode") else 260 for k in kinds], alpha=0.9)
    nx.draw_networkx_labels(graph, pos, ax=ax, labels={n: short(graph.nodes[n].get("label", n), 28) for n in graph.nodes}, font_size=7,
                            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.6})
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
    """Episodes along time, one row per speaker; marker size (and number) = the speaker's turns in the episode."""
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
    if use_time:  # episodes of one undated session share its start: spread them so none hides another
        times = [x_of[e] for e in episodes]
        step = max((max(times) - min(times)) * 0.03, timedelta(minutes=30))
        seen: dict[Any, int] = {}
        for e in episodes:
            first = start[e][0]
            x_of[e] = first + step * seen.get(first, 0)
            seen[first] = seen.get(first, 0) + 1
    fig, ax = plt.subplots(figsize=figsize)
    colours = plt.get_cmap("tab10")
    for row in rows:
        y = speakers.index(row["speaker"])
        size = 40 + 25 * row["turns"]
        ax.scatter(x_of[row["episode_id"]], y, s=size, color=colours(y % 10), alpha=0.6, edgecolor="k", linewidth=0.3)
        ax.annotate(str(row["turns"]), (x_of[row["episode_id"]], y), ha="center", va="center", fontsize=7)
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
    cmap = plt.get_cmap("tab10" if len(topics) <= 10 else "tab20")
    fig, ax = plt.subplots(figsize=figsize)
    for i, topic in enumerate(topics):
        mask = np.array([r["topic_id"] == topic for r in rows])
        ax.scatter(xy[mask, 0], xy[mask, 1], s=18, color=cmap(i % cmap.N), alpha=0.75,
                   label=f"{short(labels[topic], 40)} ({sizes[topic]})" if i < max_labels else None)
    ax.legend(fontsize=7, loc="best", frameon=False, title=f"largest of {len(topics)} topics", title_fontsize=8)
    ax.set_title(f"{granularity} topic map · {len(rows)} units · PCA of embeddings")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    return fig


def plot_explanation(memory: "Memory", hit: "Hit", figsize: tuple[float, float] | None = None):
    """Why this memory: strategy contributions (bars) beside the activation/expansion path (graph).

    The graph is laid out in columns by hops to the hit: the hit on the right, the nodes whose
    edges carried activation into it left of it, and the seeds the retrieval started from that
    are not on a drawn path in the leftmost column. Seeds have a dark outline; edges are
    labelled with their type and the activation they carried, and are wider when they carried
    more.
    """
    import networkx as nx

    plt = _pyplot()
    graph = memory.to_networkx(hit=hit)
    root = graph.graph.get("root", hit.node_id)
    pos, columns = _columns_layout(graph, root)
    tallest = max(len(nodes) for nodes in columns.values())
    if figsize is None:
        figsize = (13.0, max(5.0, 0.85 * tallest + 2.4))
    contributions = _contributions(hit.explanation)
    fig, (bars, ax) = plt.subplots(1, 2, figsize=figsize, gridspec_kw={"width_ratios": [1, 3]})
    if contributions:
        names = list(contributions)
        values = [contributions[n] for n in names]
        bars.barh(names, values, color="#17bebb", height=0.6)
        bars.set_ylim(max(len(names), 5) - 0.5, -0.5)  # top to bottom, bars of one thickness
        for y, value in enumerate(values):
            bars.text(value, y, f" {value:.3g}", va="center", fontsize=8)
        bars.set_xlim(0, max(values) * 1.3 if max(values) > 0 else 1)
        bars.tick_params(axis="y", labelsize=8)
    else:
        bars.text(0.5, 0.5, "no numeric contributions", ha="center", va="center", transform=bars.transAxes)
    bars.set_title("contribution per strategy", fontsize=10)

    nodes = list(graph.nodes)
    kinds = [graph.nodes[n].get("kind", "node") for n in nodes]
    seeds = [bool(graph.nodes[n].get("seed")) for n in nodes]
    sizes = [1100 if n == root else 420 + 1400 * float(graph.nodes[n].get("seed_weight") or 0.0) for n in nodes]
    size_of = dict(zip(nodes, sizes))

    simple = nx.DiGraph()  # one arrow per node pair; parallel types joined
    simple.add_nodes_from(nodes)
    for u, v, data in graph.edges(data=True):
        if simple.has_edge(u, v):
            simple[u][v]["type"] += "/" + data.get("type", "edge")
            simple[u][v]["weight"] += float(data.get("weight") or 0.0)
        else:
            simple.add_edge(u, v, type=data.get("type", "edge"), weight=float(data.get("weight") or 0.0))
    if simple.number_of_edges():
        heaviest = max(d["weight"] for _, _, d in simple.edges(data=True)) or 1.0
        edges = list(simple.edges)
        nx.draw_networkx_edges(
            simple, pos, ax=ax, edgelist=edges, nodelist=nodes, node_size=sizes, arrows=True, arrowstyle="-|>",
            arrowsize=16, edge_color="#555555", alpha=0.8, connectionstyle="arc3,rad=0.06",
            width=[1.2 + 4.0 * simple[u][v]["weight"] / heaviest for u, v in edges],
        )
        nx.draw_networkx_edge_labels(
            simple, pos, ax=ax, label_pos=0.62, font_size=7, rotate=False, connectionstyle="arc3,rad=0.06",
            edge_labels={(u, v): d["type"] + (f" {d['weight']:.2g}" if d["weight"] else "") for u, v, d in simple.edges(data=True)},
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
        )
    nx.draw_networkx_nodes(
        graph, pos, ax=ax, nodelist=nodes, node_size=sizes, node_color=[KIND_COLOURS.get(k, "#bbbbbb") for k in kinds],
        edgecolors=[KIND_COLOURS["seed"] if s else "white" for s in seeds], linewidths=[2.8 if s else 0.8 for s in seeds],
    )
    for node in nodes:
        data = graph.nodes[node]
        label = _wrap(data.get("text") or data.get("label") or node)
        if node == root:
            label = "HIT: " + label + ("\n(also a seed)" if data.get("seed") else "")
        elif data.get("seed_weight") is not None:
            label += f"\nseed {data['seed_weight']:.2f}"
        x, y = pos[node]
        offset = 0.16 + 0.0045 * size_of[node] ** 0.5 * 2
        ax.text(x, y - offset, label, ha="center", va="top", fontsize=7.5,
                fontweight="bold" if node == root else "normal", zorder=5)

    heights = {column: len(members) for column, members in columns.items()}
    top = max(heights.values()) / 2 + 0.35
    for column, members in columns.items():
        if column == 0:
            heading = "the hit"
        elif column == min(columns) and any(graph.degree(n) == 0 for n in members) and column != -1:
            heading = "seeds not on a drawn path"
        else:
            heading = f"{-column} hop{'s' if column < -1 else ''} before the hit"
        ax.text(column, top, heading, ha="center", va="bottom", fontsize=8.5, color="#444444", style="italic")
    left = min(columns)
    ax.set_xlim(left - 0.6, 0.6)
    ax.set_ylim(-max(heights.values()) / 2 - 0.55, top + 0.35)
    for kind in dict.fromkeys(kinds):
        ax.scatter([], [], s=60, color=KIND_COLOURS.get(kind, "#bbbbbb"), label=kind)
    if any(seeds):
        ax.scatter([], [], s=60, facecolor="white", edgecolor=KIND_COLOURS["seed"], linewidth=2.4, label="seed (outline)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=8, fontsize=8, frameon=False)
    if graph.number_of_nodes() == 1:
        ax.text(0.5, 0.12, "this explanation names no seeds or edges (no graph path to draw)",
                ha="center", transform=ax.transAxes, fontsize=8, color="#666666")
    ax.set_title("the path behind it: seeds \u2192 edges \u2192 hit", fontsize=10)
    ax.axis("off")
    where = graph.nodes[root].get("label") or hit.unit
    who = f" ({hit.speaker})" if hit.speaker else ""
    fig.suptitle(f"why this memory? {where}{who}: \u201c{short(hit.text, 90)}\u201d", fontsize=11)
    fig.tight_layout()
    return fig


def _wrap(text: str, width: int = 24, lines: int = 3) -> str:
    import textwrap

    wrapped = textwrap.wrap(text, width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = short(wrapped[-1] + " …", width)
    return "\n".join(wrapped)


def _columns_layout(graph: "nx.MultiDiGraph", root: Any) -> tuple[dict[Any, tuple[float, float]], dict[int, list[Any]]]:
    """Positions by hops to ``root`` (root at x=0, one column per hop to the left; nodes not
    linked to it in the leftmost column), and the columns (x -> nodes, top to bottom)."""
    import networkx as nx

    hops = nx.single_source_shortest_path_length(graph.to_undirected(as_view=True), root) if root in graph else {}
    deepest = max(hops.values(), default=0)
    columns: dict[int, list[Any]] = {}
    for node in graph.nodes:
        columns.setdefault(-hops[node] if node in hops else -(deepest + 1), []).append(node)

    def order(node: Any) -> tuple:
        data = graph.nodes[node]
        return (not data.get("seed"), -float(data.get("seed_weight") or 0.0), data.get("kind", ""), str(data.get("label", node)))

    pos = {}
    for column, members in columns.items():
        members.sort(key=order)
        for i, node in enumerate(members):
            pos[node] = (float(column), (len(members) - 1) / 2 - i)
    return pos, dict(sorted(columns.items()))


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
