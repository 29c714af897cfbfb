"""Subgraphs as networkx graphs and the plot helpers, on the bundled sample conversation."""

from __future__ import annotations

from importlib import resources

import pytest

from graphmem import InputError, Memory
from graphmem import plots


@pytest.fixture(scope="module")
def memory(tmp_path_factory):
    mem = Memory.open(tmp_path_factory.mktemp("explore") / "store", namespace="explore")
    with resources.as_file(resources.files("graphmem").joinpath("data", "sample_conversation.json")) as sample:
        mem.ingest(sample)
    yield mem
    mem.close()


def test_entity_neighbourhood(memory):
    graph = memory.to_networkx(entity="biscuit")
    root = graph.graph["root"]
    assert graph.nodes[root]["kind"] == "entity" and graph.nodes[root]["label"] == "Biscuit"
    events = [n for n, d in graph.nodes(data=True) if d["kind"] == "event"]
    assert events and all(graph.has_edge(e, root) for e in events)
    assert any("Biscuit" in graph.nodes[e]["text"] for e in events)
    turns = {d["label"] for _, d in graph.nodes(data=True) if d["kind"] == "turn"}
    assert "S2:3" in turns  # "Her name is Biscuit."
    types = {d["type"] for _, _, d in graph.edges(data=True)}
    assert types == {"INVOLVES", "FROM"}
    with pytest.raises(InputError, match="no entity named"):
        memory.to_networkx(entity="Nobody-Here")


def test_episode_graph(memory):
    episode = memory.cypher("MATCH (e:Episode) WHERE e.namespace = $namespace RETURN e.id AS id, e.turn_count AS n ORDER BY e.start_seq LIMIT 1")[0]
    graph = memory.to_networkx(episode=episode["id"])
    turns = [n for n, d in graph.nodes(data=True) if d["kind"] == "turn"]
    assert len(turns) == episode["n"]
    next_edges = [(u, v) for u, v, d in graph.edges(data=True) if d["type"] == "NEXT"]
    assert len(next_edges) == len(turns) - 1
    with pytest.raises(InputError):
        memory.to_networkx(entity="Tom", episode=episode["id"])
    # each stored edge drawn once: an event's FROM edge was drawn once per entity it involves
    stored = memory.cypher("MATCH (ev:Event)-[:FROM]->(t:Turn)-[:PART_OF]->(e:Episode {id: $id}) WHERE e.namespace = $namespace "
                           "RETURN count(ev) AS n", {"id": episode["id"]})[0]["n"]
    assert stored and len([1 for _, _, d in graph.edges(data=True) if d["type"] == "FROM"]) == stored


def test_an_entity_graph_draws_each_event_once_and_limit_counts_events(tmp_path):
    """An entity with two roles in one event (a speaker naming themself) gave two rows of the event:
    its FROM and co-participant edges drawn twice, and `limit` counted roles, not events."""
    with Memory.open(tmp_path / "store", namespace="roles") as memory:
        memory.add([{"speaker": "Bob", "text": "Hi, Bob here. Bob loves hiking in the Alps."},
                    {"speaker": "Alice", "text": "Bob, you told me Bob went to Rome with Carla."},
                    {"speaker": "Bob", "text": "I did go to Rome last spring with Carla."}], conversation="c")
        events = memory.cypher("MATCH (ev:Event)-[:INVOLVES]->(n:Entity {key: 'bob'}) WHERE n.namespace = $namespace "
                               "RETURN count(DISTINCT ev) AS n")[0]["n"]
        graph = memory.to_networkx(entity="Bob")
        edges = [(u, v, d["type"], d.get("role")) for u, v, d in graph.edges(data=True)]
        assert len(edges) == len(set(edges)), edges  # no edge drawn twice
        assert len([e for e in edges if e[2] == "FROM"]) == events
        limited = memory.to_networkx(entity="Bob", limit=2)
        assert len([n for n, d in limited.nodes(data=True) if d["kind"] == "event"]) == min(2, events)


def test_plots_render(memory, tmp_path):
    figures = {
        "entity": plots.draw_graph(memory.to_networkx(entity="Tom"), title="Tom"),
        "timeline": plots.plot_episode_timeline(memory),
        "topics": plots.plot_topic_map(memory, "event"),
    }
    for name, figure in figures.items():
        path = tmp_path / f"{name}.png"
        figure.savefig(path, dpi=60)
        assert path.stat().st_size > 5000, name
    timeline_ax = figures["timeline"].axes[0]
    assert [t.get_text() for t in timeline_ax.get_yticklabels()] == ["Priya", "Tom"]
    legend = figures["topics"].axes[0].get_legend()
    assert legend is not None and len(legend.get_texts()) >= 1


def test_text_with_dollar_signs_is_drawn_as_written(tmp_path):
    """Two `$` in a memory made matplotlib read the text between them as math: "$5 and $10" was drawn
    as math and "$\\frac{ $" raised a parse error from draw_graph and plot_explanation."""
    import matplotlib

    with Memory.open(tmp_path / "store", namespace="dollars") as memory:
        memory.add([{"speaker": "Alice", "text": "Petco charged me $\\frac{ $ off, then $5 and $10 for Rex."}], conversation="c")
        hit = memory.search("What did Petco charge for Rex?", k=1)[0]
        figures = [plots.draw_graph(memory.to_networkx(entity="Petco"), title="$x$ Petco"), plots.plot_explanation(memory, hit)]
        for i, figure in enumerate(figures):
            figure.savefig(tmp_path / f"{i}.png", dpi=40)  # rendering parsed the math and raised
            texts = [t for ax in figure.axes for t in ax.texts + [ax.title]]
            assert any("$" in t.get_text() for t in texts) and not any(t._parse_math for t in texts if "$" in t.get_text())
    assert matplotlib.rcParams["text.parse_math"]  # the caller's own setting is left as it was


def test_explanation_graph_keeps_seed_kinds_and_numeric_weights(memory):
    hit = memory.search("Which animal did Tom take camping in Wales?", k=3, strategy="activation")[0]
    graph = memory.to_networkx(hit=hit)
    why = hit.explanation["activation"]
    assert graph.graph["root"] == hit.node_id and graph.nodes[hit.node_id]["kind"] == "hit"
    for seed in why["seeds"]:
        assert graph.nodes[seed["id"]]["seed"] is True
        if seed["id"] != hit.node_id:
            assert graph.nodes[seed["id"]]["kind"] == seed["kind"]
    assert {(e["source"], e["target"]) for e in why["edges"]} <= set(graph.edges())
    for _, _, data in graph.edges(data=True):  # a None weight turns every layout position into NaN
        assert "weight" not in data or isinstance(data["weight"], float)


def test_explanation_plot_draws_the_path(memory, tmp_path):
    import math

    from matplotlib.collections import PathCollection
    from matplotlib.patches import FancyArrowPatch

    hit = memory.search("Which animal did Tom take camping in Wales?", k=3, strategy="activation")[0]
    graph = memory.to_networkx(hit=hit)
    assert graph.number_of_nodes() > 1 and graph.number_of_edges() > 0
    figure = plots.plot_explanation(memory, hit)
    bars, ax = figure.axes[:2]
    assert [t.get_text() for t in bars.get_yticklabels()] == list(hit.explanation["contributions"])
    # nodes: one finite point per graph node, inside the visible area
    points = [xy for c in ax.collections if isinstance(c, PathCollection) for xy in c.get_offsets().tolist()]
    assert len(points) == graph.number_of_nodes()
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for x, y in points:
        assert math.isfinite(x) and math.isfinite(y) and x0 <= x <= x1 and y0 <= y <= y1
    # edges: an arrow per linked node pair, all into the hit here
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == len(set(graph.edges())) > 0
    texts = " | ".join(t.get_text() for t in ax.texts)
    assert "HIT: turn S3:6" in texts and "entity Tom" in texts and "FROM" in texts
    path = tmp_path / "why.png"
    figure.savefig(path, dpi=60)
    assert path.stat().st_size > 5000


def _text_boxes(figure):
    """(text, display box, font size) of every visible, non-empty text of a drawn figure."""
    from matplotlib.text import Text

    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    return [(t.get_text(), t.get_window_extent(renderer), t.get_fontsize()) for t in figure.findobj(Text)
            if t.get_visible() and t.get_text().strip()]


def _overlapping(boxes):
    found = []
    for i, (a, box_a, _) in enumerate(boxes):
        for b, box_b, _ in boxes[i + 1:]:
            width = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
            height = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
            if width > 1 and height > 1:
                found.append((a, b))
    return found


def _sample_pictures(memory):
    hit = memory.search("Which animal did Tom take camping in Wales?", k=3, strategy="activation")[0]
    auto = memory.search("Which animal did Tom take camping in Wales?", k=3)[0]
    return {
        "entity": plots.draw_graph(memory.to_networkx(entity="Biscuit"), title="Biscuit"),
        "episode": plots.draw_graph(memory.to_networkx(episode=memory.cypher(
            "MATCH (e:Episode) WHERE e.namespace = $namespace RETURN e.id AS id ORDER BY e.start_seq LIMIT 1")[0]["id"])),
        "timeline": plots.plot_episode_timeline(memory),
        "topics": plots.plot_topic_map(memory, "event"),
        "why": plots.plot_explanation(memory, hit),
        "why-auto": plots.plot_explanation(memory, auto),
    }


def test_pictures_are_readable_and_labels_do_not_overlap(memory):
    import matplotlib.pyplot as plt

    for name, figure in _sample_pictures(memory).items():
        boxes = _text_boxes(figure)
        assert len(boxes) >= 5, name
        small = [(text, size) for text, _, size in boxes if size < 9]
        assert not small, (name, small[:5])
        assert not _overlapping(boxes), (name, _overlapping(boxes)[:5])
        plt.close(figure)


def test_graph_labels_sit_beside_their_nodes_not_on_others(memory):
    from matplotlib.collections import PathCollection

    graph = memory.to_networkx(entity="Biscuit")
    figure = plots.draw_graph(graph, title="Biscuit")
    ax = figure.axes[0]
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    (nodes,) = [c for c in ax.collections if isinstance(c, PathCollection) and len(c.get_offsets())]
    centres = ax.transData.transform(nodes.get_offsets())
    radii = [size ** 0.5 / 2 * figure.dpi / 72 for size in nodes.get_sizes()]
    labels = [t for t in ax.texts if t.get_text().strip()]
    assert len(labels) == graph.number_of_nodes()
    event_labels = [t.get_text() for t in labels if "Biscuit is the perfect" in t.get_text()]
    assert event_labels and all(len(line) <= 24 for line in event_labels[0].splitlines())  # wrapped, not one long line
    for text in labels:
        box = text.get_window_extent(renderer)
        own = ax.transData.transform(text.xy)
        for (cx, cy), r in zip(centres, radii):
            if abs(cx - own[0]) < 0.5 and abs(cy - own[1]) < 0.5:
                continue
            near_x = min(max(cx, box.x0), box.x1)
            near_y = min(max(cy, box.y0), box.y1)
            assert (near_x - cx) ** 2 + (near_y - cy) ** 2 >= (0.8 * r) ** 2, f"{text.get_text()!r} covers a node"


def test_timeline_legend_and_topic_labels(memory):
    timeline = plots.plot_episode_timeline(memory)
    legend = timeline.axes[0].get_legend()
    assert legend is not None and "turns" in legend.get_title().get_text()
    entries = [t.get_text() for t in legend.get_texts()]
    assert entries and all(e.endswith("turns") or e.endswith("turn") for e in entries)
    circled = {t.get_text() for t in timeline.axes[0].texts}
    rows = memory.store.read("read/episode_timeline", {"namespace": memory.namespace})
    assert circled == {str(r["turns"]) for r in rows}

    topics = plots.plot_topic_map(memory, "event")
    ax = topics.axes[0]
    ids = sorted(t.get_text() for t in ax.texts)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert ids and ids == sorted(entry.split(":", 1)[0] for entry in legend)
    assert all(":" in entry and "(" in entry for entry in legend)  # id: top terms (size)


def test_the_timeline_shows_the_days_in_the_namespaces_zone(tmp_path):
    """An evening in Los Angeles is the next day in UTC: the timeline labelled and placed it there."""
    with Memory.open(tmp_path / "store", namespace="zoned") as memory:
        memory.set_timezone("America/Los_Angeles")
        memory.add([{"speaker": "Ann", "text": "We went to the lake this evening.", "timestamp": "2024-03-09T19:00:00"},
                    {"speaker": "Ben", "text": "Sounds lovely, was it cold?", "timestamp": "2024-03-09T19:05:00"}],
                   conversation="c", session="s1")
        memory.add([{"speaker": "Ann", "text": "I forgot to say: the dog swam too.", "timestamp": "2024-03-09T19:20:00"}],
                   conversation="c", session="s2")  # close to the first: one column per episode, labelled by day
        memory.add([{"speaker": "Ann", "text": "Today I baked bread.", "timestamp": "2024-04-20T10:00:00"}], conversation="c", session="s3")
        labels = [t.get_text() for t in plots.plot_episode_timeline(memory).axes[0].get_xticklabels()]
        assert any("2024-03-09" in label for label in labels) and not any("2024-03-10" in label for label in labels), labels



def test_a_graph_label_is_never_cut_inside_a_character_cluster():
    """A label cut at 40 code points drew half a flag (🇵 alone) or a family emoji ending in a joiner."""
    from graphmem.explore.subgraphs import short

    for text in ("a" * 38 + "🇵🇹 and more", "a" * 37 + "👨‍👩‍👧 more", "a" * 38 + "e\u0301\u0301 more"):
        label = short(text)
        assert label.endswith("…") and len(label) <= 40 and text.startswith(label[:-1]), label
        assert label[:-1] == text[:len(label) - 1] and not label[-2:-1] in ("\u200d", "\u0301")
        assert "\U0001F1F5" not in label and "\u200d" not in label, label
    assert short("short text") == "short text"
    zalgo = "Z" + "\u0301" * 60 + "algo"
    assert short(zalgo) == zalgo[:39] + "…"  # one cluster longer than the label: cut where it fell, not emptied
