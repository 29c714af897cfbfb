"""Pictures of a memory (matplotlib figures) for notebooks and the README.

matplotlib is imported lazily; install it with ``pip install "graphmem[notebooks]"``.
Every function returns a ``matplotlib.figure.Figure`` and draws nothing on screen itself.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from graphmem.errors import ConfigurationError, InputError
from graphmem.explore import KIND_COLOURS, columns_layout, short
from graphmem.explore.view import KAMADA_KAWAI_MAX_NODES

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

    from graphmem.hits import Hit
    from graphmem.memory import Memory

__all__ = ["draw_graph", "plot_episode_timeline", "plot_topic_map", "plot_explanation", "KIND_COLOURS", "FONT_SIZE"]

logger = logging.getLogger(__name__)

FONT_SIZE = 9.5
"""Points of every label in the pictures (node labels, numbers, legends); titles are larger."""


def _pyplot():
    try:
        import matplotlib.pyplot as plt  # the backend is the caller's choice (inline in Jupyter, Agg headless)
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise ConfigurationError("plots need matplotlib: pip install 'graphmem[notebooks]'") from exc
    return plt


def _verbatim(draw: Callable[..., Any]) -> Callable[..., Any]:
    """``draw`` with every text it makes shown as written: matplotlib reads text between two ``$``
    as math ("$5 and $10" drawn as math, "$\\frac{ $" raising a parse error), and memories are
    people's words. A text keeps the setting it was made with."""
    @functools.wraps(draw)
    def drawn(*args: Any, **kwargs: Any) -> Any:
        import matplotlib

        with matplotlib.rc_context({"text.parse_math": False}):
            return draw(*args, **kwargs)

    return drawn


@_verbatim
def draw_graph(graph: "nx.MultiDiGraph", title: str | None = None, seed: int = 7, figsize=(11, 8)):
    """Draw a subgraph from :meth:`Memory.to_networkx`, nodes coloured by kind.

    Labels are wrapped (event texts to two short lines) and placed beside their node where they
    cover no other label and no node; a label that fits nowhere goes where it overlaps least.
    """
    import networkx as nx

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=figsize)
    if graph.number_of_nodes() == 0:
        ax.text(0.5, 0.5, "empty graph", ha="center", fontsize=FONT_SIZE)
        return fig
    simple = nx.Graph(graph)
    if 1 < len(simple) <= KAMADA_KAWAI_MAX_NODES:
        pos = nx.kamada_kawai_layout(simple, weight=None)
    else:
        pos = nx.spring_layout(simple, seed=seed, k=1.2 / max(1, len(simple)) ** 0.5, weight=None)
    nodes = list(graph.nodes)
    kinds = [graph.nodes[n].get("kind", "node") for n in nodes]
    sizes = [650 if k in ("entity", "hit", "episode", "conversation") else 260 for k in kinds]
    nx.draw_networkx_edges(simple, pos, ax=ax, alpha=0.35, width=1.0, node_size=sizes, nodelist=nodes)
    nx.draw_networkx_nodes(graph, pos, ax=ax, nodelist=nodes, node_color=[KIND_COLOURS.get(k, "#bbbbbb") for k in kinds],
                           node_size=sizes, alpha=0.9)
    for kind in dict.fromkeys(kinds):
        ax.scatter([], [], color=KIND_COLOURS.get(kind, "#bbbbbb"), label=kind)
    ax.legend(loc="lower left", fontsize=FONT_SIZE, frameon=False)
    ax.set_title(title or graph.graph.get("kind", "subgraph"), fontsize=12)
    ax.axis("off")
    ax.margins(0.12)
    fig.tight_layout()
    root = graph.graph.get("root")
    order = sorted(range(len(nodes)), key=lambda i: (nodes[i] != root, kinds[i] == "turn", kinds[i]))
    _place_labels(fig, ax, [(pos[nodes[i]], _node_label(graph.nodes[nodes[i]]), sizes[i] ** 0.5 / 2,
                             {"fontweight": "bold" if nodes[i] == root else "normal"}) for i in order],
                  obstacles=[(pos[n], size ** 0.5 / 2) for n, size in zip(nodes, sizes)])
    return fig


def _node_label(data: dict) -> str:
    label = str(data.get("label") or "")
    if data.get("kind") == "event":
        return _wrap(data.get("text") or label, 24, 2)
    return _wrap(label, 24, 2)


def _place_labels(fig, ax, items, obstacles=()) -> list:
    """Put each label beside its point where it overlaps no placed label and no obstacle.

    ``items``: ``((x, y), text, radius_points, text_kwargs)`` in placement order (most important
    first); ``obstacles``: ``((x, y), radius_points)`` discs (the nodes) labels must not cover.
    Tries below, above, right, left, the diagonals, then the same further out; a label that
    fits nowhere takes the candidate with the least overlap. Layout must be final (after
    ``tight_layout``): positions are measured in display pixels. Returns the text artists.
    """
    from matplotlib.transforms import Bbox

    canvas = fig.canvas
    if not hasattr(canvas, "get_renderer"):  # pragma: no cover - non-Agg canvases
        logger.info("labels placed without overlap checks: the canvas %s has no renderer", type(canvas).__name__)
    renderer = canvas.get_renderer() if hasattr(canvas, "get_renderer") else None
    points = fig.dpi / 72.0
    discs = []
    for (x, y), radius in obstacles:
        cx, cy = ax.transData.transform((x, y))
        r = radius * points
        discs.append(Bbox([[cx - r, cy - r], [cx + r, cy + r]]))
    frame = fig.bbox
    placed: list = []
    texts = []
    for (x, y), text, radius, kwargs in items:
        if not text:
            continue
        gap = radius + 2.5
        candidates = []
        for far in (1.0, 2.2, 3.6):
            g = gap * far if far > 1 else gap
            candidates += [((0, -g), "center", "top"), ((0, g), "center", "bottom"), ((g + 1, 0), "left", "center"),
                           ((-g - 1, 0), "right", "center"), ((g * 0.75, -g * 0.75), "left", "top"),
                           ((-g * 0.75, -g * 0.75), "right", "top"), ((g * 0.75, g * 0.75), "left", "bottom"),
                           ((-g * 0.75, g * 0.75), "right", "bottom")]
        own = ax.transData.transform((x, y))
        style = {"fontsize": FONT_SIZE, "zorder": 5, "annotation_clip": False,
                 "bbox": {"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none", "alpha": 0.8}, **kwargs}

        def cost(box, own=own) -> float:
            covered = sum(_overlap(box, other) for other in placed)
            covered += sum(_overlap(box, disc) for disc in discs if not disc.contains(*own))
            return covered + 4 * (box.width * box.height - _overlap(box, frame))

        texts.append(_least_covering(
            (lambda offset=offset, ha=ha, va=va: ax.annotate(text, (x, y), xytext=offset, textcoords="offset points", ha=ha,
                                                            va=va, **style) for offset, ha, va in candidates),
            cost, renderer, placed))
    return texts


def _least_covering(draws, cost, renderer, placed: list):
    """Draw each candidate label in turn (``draws``: callables returning an artist) and keep the
    one whose padded box ``cost(box)`` covers least, removing the others; the first costing
    nothing ends the search, and the kept box joins ``placed``. Without a renderer nothing can be
    measured: the first candidate is kept."""
    best = None
    for draw in draws:
        artist = draw()
        if renderer is None:
            return artist
        box = artist.get_window_extent(renderer).padded(1.5)
        covered = cost(box)
        if best is None or covered < best[0]:
            if best is not None:
                best[1].remove()
            best = (covered, artist, box)
        else:
            artist.remove()
        if covered == 0:
            break
    placed.append(best[2])
    return best[1]


def _overlap(a, b) -> float:
    """Area (pixels) shared by two display boxes."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return width * height if width > 0 and height > 0 else 0.0


def _when(value: Any, tz: Any = None) -> datetime | None:
    """A stored time (naive UTC) as the wall-clock time in ``tz``, the zone the memory shows times in."""
    from graphmem.timezones import to_local

    try:
        return to_local(datetime.fromisoformat(value), tz) if value else None
    except (TypeError, ValueError):
        return None


@_verbatim
def plot_episode_timeline(memory: "Memory", conversation: str | None = None, figsize=(11, 4)):
    """Episodes along time, one row per speaker; marker size (and number) = the speaker's turns in the episode.

    Episodes go on a time axis when they are far enough apart to be told apart; otherwise (many
    episodes, or no dates) one column per episode in conversation order, with the sessions'
    starts marked on the axis and the figure widened (up to 20 inches). Times are shown in the
    namespace's time zone, as hits show them.
    """
    plt = _pyplot()
    rows = memory.store.read("read/episode_timeline", {"namespace": memory.namespace})
    if conversation is not None:
        rows = [r for r in rows if r["conversation"] == conversation]
    if not rows:
        raise InputError("no episodes to draw (ingest a conversation first)")
    speakers = sorted({r["speaker"] for r in rows})
    episodes = list(dict.fromkeys(r["episode_id"] for r in rows))
    zone = memory._zone()  # the days and hours the user said them on
    start = {r["episode_id"]: (_when(r["started_at"], zone), r["session"], r["start_seq"], r["conversation"]) for r in rows}

    def area(turns: int) -> float:
        return 110 + 32 * turns  # points^2: a two-digit number still fits inside

    widest = max(area(r["turns"]) for r in rows) ** 0.5  # points
    use_time = all(v[0] is not None for v in start.values())
    x_of: dict[str, Any] = {e: i for i, e in enumerate(episodes)}
    if use_time:  # episodes of one undated session share its start: spread them so none hides another
        times = [start[e][0] for e in episodes]
        step = max((max(times) - min(times)) * 0.03, timedelta(minutes=30))
        seen: dict[Any, int] = {}
        for e in episodes:
            first = start[e][0]
            x_of[e] = first + step * seen.get(first, 0)
            seen[first] = seen.get(first, 0) + 1
        xs = sorted(x_of.values())
        span = (xs[-1] - xs[0]) or timedelta(seconds=1)
        gaps = [(later - earlier) / span * (figsize[0] - 2.6) * 72 for earlier, later in zip(xs, xs[1:])]
        if gaps and min(gaps) < 0.75 * widest:  # crowded: circles would cover each other's numbers
            use_time = False
            x_of = {e: i for i, e in enumerate(episodes)}
    width = figsize[0] if use_time else min(20.0, max(figsize[0], 0.3 * len(episodes) + 3.0))
    numbered = use_time or (width - 2.6) * 72 / max(1, len(episodes)) >= 0.9 * widest
    fig, ax = plt.subplots(figsize=(width, figsize[1]))
    colours = plt.get_cmap("tab10")
    for row in rows:
        y = speakers.index(row["speaker"])
        ax.scatter(x_of[row["episode_id"]], y, s=area(row["turns"]), color=colours(y % 10), alpha=0.6, edgecolor="k", linewidth=0.3)
        if numbered:
            ax.annotate(str(row["turns"]), (x_of[row["episode_id"]], y), ha="center", va="center", fontsize=FONT_SIZE)
    counts = sorted({r["turns"] for r in rows})
    examples = sorted({counts[0], counts[len(counts) // 2], counts[-1]})
    handles = [ax.scatter([], [], s=area(n), facecolor="white", edgecolor="k", linewidth=0.6, label=f"{n} turn{'s' if n != 1 else ''}")
               for n in examples]
    title = "number in a circle:\nthat speaker's turns\nin the episode" if numbered else "circle size:\nthat speaker's turns\nin the episode"
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=FONT_SIZE,
              title=title, title_fontsize=FONT_SIZE, labelspacing=1.3, borderpad=0.8, handletextpad=1.0)
    ax.set_yticks(range(len(speakers)), speakers)
    ax.tick_params(labelsize=FONT_SIZE)
    ax.set_ylim(-0.6, len(speakers) - 0.4)
    if use_time:
        ax.set_xlabel("episode start", fontsize=FONT_SIZE)
        fig.autofmt_xdate()
    else:
        firsts: dict[tuple, int] = {}
        for i, e in enumerate(episodes):
            firsts.setdefault((start[e][3], start[e][1]), i)
        per_episode = (width - 2.6) * 72 / max(1, len(episodes))  # points between columns
        ticks: list[tuple[Any, int]] = []
        for key, i in sorted(firsts.items(), key=lambda item: item[1]):
            if not ticks or (i - ticks[-1][1]) * per_episode >= 1.6 * FONT_SIZE:  # rotated labels side by side
                ticks.append((key, i))
        labels = []
        for (_, session), i in ticks:
            when = start[episodes[i]][0]
            labels.append(f"S{session}" + (f" {when:%Y-%m-%d}" if when else ""))
        ax.set_xticks([i for _, i in ticks], labels, rotation=90)
        ax.set_xlim(-0.7, len(episodes) - 0.3)
        ax.set_xlabel("episodes in conversation order (ticks: where a session starts)", fontsize=FONT_SIZE)
    ax.set_title(f"episode timeline per speaker · {len(episodes)} episodes · namespace {memory.namespace!r}", fontsize=12)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


@_verbatim
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
    centres = []
    for i, topic in enumerate(topics):
        mask = np.array([r["topic_id"] == topic for r in rows])
        name = f"T{i + 1}"
        ax.scatter(xy[mask, 0], xy[mask, 1], s=26, color=cmap(i % cmap.N), alpha=0.8,
                   label=f"{name}: {short(labels[topic], 40)} ({sizes[topic]})" if i < max_labels else None)
        if i < max_labels:
            centres.append(((float(xy[mask, 0].mean()), float(xy[mask, 1].mean())), name, i))
    ax.legend(fontsize=FONT_SIZE, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
              title=f"topic: top terms (units)\n{min(len(topics), max_labels)} largest of {len(topics)}",
              title_fontsize=FONT_SIZE)
    ax.set_title(f"{granularity} topic map · {len(rows)} units · PCA of embeddings", fontsize=12)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.margins(0.08)
    fig.tight_layout()
    # each topic's id beside the centre of its points, in its colour, never on another id
    _place_labels(fig, ax, [(xy_, name, 3.0, {"fontsize": FONT_SIZE + 1.5, "fontweight": "bold", "color": cmap(i % cmap.N),
                                              "bbox": {"boxstyle": "round,pad=0.2", "fc": "white", "ec": cmap(i % cmap.N), "alpha": 0.9}})
                            for xy_, name, i in centres])
    return fig


@_verbatim
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
    pos, columns = columns_layout(graph, root)
    tallest = max(len(nodes) for nodes in columns.values())
    if figsize is None:
        figsize = (13.0, max(5.5, 1.15 * tallest + 2.4))
    contributions = _contributions(hit.explanation)
    fig, (bars, ax) = plt.subplots(1, 2, figsize=figsize, gridspec_kw={"width_ratios": [1, 3]})
    if contributions:
        names = list(contributions)
        values = [contributions[n] for n in names]
        bars.barh(names, values, color="#17bebb", height=0.6)
        bars.set_ylim(max(len(names), 5) - 0.5, -0.5)  # top to bottom, bars of one thickness
        for y, value in enumerate(values):
            bars.text(value, y, f" {value:.3g}", va="center", fontsize=FONT_SIZE)
        bars.set_xlim(0, max(values) * 1.3 if max(values) > 0 else 1)
        bars.tick_params(labelsize=FONT_SIZE)
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
    nx.draw_networkx_nodes(
        graph, pos, ax=ax, nodelist=nodes, node_size=sizes, node_color=[KIND_COLOURS.get(k, "#bbbbbb") for k in kinds],
        edgecolors=[KIND_COLOURS["seed"] if s else "white" for s in seeds], linewidths=[2.8 if s else 0.8 for s in seeds],
    )
    for node in nodes:
        data = graph.nodes[node]
        label = _wrap(data.get("text") or data.get("label") or node, 26, 2)
        if node == root:
            label = "HIT: " + label + ("\n(also a seed)" if data.get("seed") else "")
        elif data.get("seed_weight") is not None:
            label += f"\nseed {data['seed_weight']:.2f}"
        x, y = pos[node]
        offset = 0.16 + 0.0045 * size_of[node] ** 0.5 * 2
        ax.text(x, y - offset, label, ha="center", va="top", fontsize=FONT_SIZE,
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
        ax.text(column, top, heading, ha="center", va="bottom", fontsize=FONT_SIZE, color="#444444", style="italic")
    left = min(columns)
    ax.set_xlim(left - 0.6, 0.6)
    ax.set_ylim(-max(heights.values()) / 2 - 0.55, top + 0.35)
    for kind in dict.fromkeys(kinds):
        ax.scatter([], [], s=60, color=KIND_COLOURS.get(kind, "#bbbbbb"), label=kind)
    if any(seeds):
        ax.scatter([], [], s=60, facecolor="white", edgecolor=KIND_COLOURS["seed"], linewidth=2.4, label="seed (outline)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=8, fontsize=FONT_SIZE, frameon=False)
    if graph.number_of_nodes() == 1:
        ax.text(0.5, 0.12, "this explanation names no seeds or edges (no graph path to draw)",
                ha="center", transform=ax.transAxes, fontsize=FONT_SIZE, color="#666666")
    ax.set_title("the path behind it: seeds \u2192 edges \u2192 hit", fontsize=10)
    ax.axis("off")
    where = graph.nodes[root].get("label") or hit.unit
    who = f" ({hit.speaker})" if hit.speaker else ""
    fig.suptitle(f"why this memory? {where}{who}: \u201c{short(hit.text, 90)}\u201d", fontsize=11)
    fig.tight_layout()
    _place_edge_labels(fig, ax, [(pos[u], pos[v], d["type"] + (f" {d['weight']:.2g}" if d["weight"] else ""))
                                 for u, v, d in simple.edges(data=True)],
                       discs=[(pos[n], size ** 0.5 / 2) for n, size in zip(nodes, sizes)])
    return fig


def _place_edge_labels(fig, ax, edges, discs=()) -> list:
    """Label each edge ``(start, end, text)`` at the point along it where the label covers the
    fewest other labels and nodes (``discs``: ``((x, y), radius_points)``), middle first."""
    canvas = fig.canvas
    renderer = canvas.get_renderer() if hasattr(canvas, "get_renderer") else None
    points = fig.dpi / 72.0
    boxes = []
    if renderer is not None:
        boxes = [t.get_window_extent(renderer).padded(1.5) for t in ax.texts if t.get_text().strip()]
    circles = [(ax.transData.transform(xy), radius * points) for xy, radius in discs]
    texts = []
    for (x0, y0), (x1, y1), text in edges:

        def cost(box) -> float:
            covered = sum(_overlap(box, other) for other in boxes)
            for (cx, cy), r in circles:
                covered += _overlap(box, type(box)([[cx - r, cy - r], [cx + r, cy + r]]))
            return covered

        texts.append(_least_covering(
            (lambda t=t: ax.text(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, text, ha="center", va="center", fontsize=FONT_SIZE,
                                 zorder=4, bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
             for t in (0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74)),
            cost, renderer, boxes))
    return texts


def _wrap(text: str, width: int = 24, lines: int = 3) -> str:
    import textwrap

    wrapped = textwrap.wrap(text, width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = short(wrapped[-1] + " …", width)
    return "\n".join(wrapped)


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
