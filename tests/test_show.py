"""The interactive graph: Memory.show widgets and `graphmem show --html` pages, on the real embedded
store with the bundled sample, the page drawn by headless Chromium when it is installed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from importlib import resources

import pytest
from typer.testing import CliRunner

from graphmem import InputError, Memory
from graphmem.cli import app
from graphmem.explore import KIND_COLOURS, graph_spec, to_html

QUESTION = "Which animal did Tom take camping in Wales?"
CHROMIUM = next((found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (Debian: apt-get install chromium)")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("show") / "store"
    with Memory.open(path, namespace="show") as mem:
        with resources.as_file(resources.files("graphmem").joinpath("data", "sample_conversation.json")) as sample:
            mem.ingest(sample)
    return path


@pytest.fixture(scope="module")
def memory(store):
    mem = Memory.open(store, namespace="show")
    yield mem
    mem.close()


def _all_keys(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _all_keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _all_keys(inner)


def _check_consistent(view, graph):
    """The widget draws exactly the subgraph: one node per graph node, one edge per graph edge."""
    assert view.node_count == graph.number_of_nodes() and view.edge_count == graph.number_of_edges()
    ids = {n["data"]["id"] for n in view.spec["nodes"]}
    assert ids == {str(n) for n in graph.nodes}
    assert all(e["data"]["source"] in ids and e["data"]["target"] in ids for e in view.spec["edges"])
    for node in view.spec["nodes"]:
        assert node["data"]["colour"] == KIND_COLOURS[node["data"]["kind"]]
    assert not any("embedding" in key for key in _all_keys(view.spec)), "embeddings must not reach the page"
    json.dumps(view.spec)  # the spec travels to the browser as JSON


def test_entity_neighbourhood_widget(memory):
    graph = memory.to_networkx(entity="Biscuit")
    view = memory.show(entity="Biscuit")
    _check_consistent(view, graph)
    events = [n for n, d in graph.nodes(data=True) if d["kind"] == "event"]
    assert view.node_count >= 1 + 2 * len(events) - 1 and len(events) >= 3
    root = next(n["data"] for n in view.spec["nodes"] if n["data"]["root"])
    assert root["label"] == "Biscuit" and root["props"]["name"] == "Biscuit" and root["props"]["namespace"] == "show"
    turns = {n["data"]["props"].get("source_id"): n["data"]["props"] for n in view.spec["nodes"] if n["data"]["kind"] == "turn"}
    assert turns["S2:3"]["text"].startswith("Her name is Biscuit")  # the stored turn, shown on click
    labels = {e["data"]["label"] for e in view.spec["edges"]}
    assert "FROM" in labels and any(label.startswith("INVOLVES") for label in labels)
    assert view.spec["title"].startswith("entity Biscuit") and "Biscuit" in repr(view)


def test_hit_path_widget(memory):
    hit = memory.search(QUESTION, k=3, strategy="activation")[0]
    graph = memory.to_networkx(hit=hit)
    view = memory.show(hit=hit)
    _check_consistent(view, graph)
    assert view.edge_count > 0 and all(e["data"]["path"] for e in view.spec["edges"])
    nodes = {n["data"]["id"]: n["data"] for n in view.spec["nodes"]}
    root = nodes[hit.node_id]
    assert root["root"] and root["label"] == "HIT: turn S3:6" and root["kind"] == "hit"
    assert root["props"]["text"] == hit.text and root["props"]["source_id"] == "S3:6"  # stored properties of the hit
    assert hit.text[:40] in view.spec["caption"] and "activation" in view.spec["caption"]
    seeds = {s["id"] for s in hit.explanation["activation"]["seeds"]}
    assert {i for i, d in nodes.items() if d["seed"]} == seeds
    into_hit = [e["data"] for e in view.spec["edges"] if e["data"]["target"] == hit.node_id]
    assert into_hit and all(e["width"] >= 2.0 for e in into_hit)
    positions = {n["data"]["id"]: n["position"]["x"] for n in view.spec["nodes"]}
    assert all(x < positions[hit.node_id] for i, x in positions.items() if i != hit.node_id)  # the hit on the right


def test_episode_and_conversation_widgets(memory):
    episode = memory.cypher("MATCH (e:Episode) WHERE e.namespace = $namespace RETURN e.id AS id, e.turn_count AS n "
                            "ORDER BY e.start_seq LIMIT 1")[0]
    view = memory.show(episode=episode["id"])
    _check_consistent(view, memory.to_networkx(episode=episode["id"]))
    assert sum(1 for n in view.spec["nodes"] if n["data"]["kind"] == "turn") == episode["n"]

    key = memory.cypher("MATCH (c:Conversation) WHERE c.namespace = $namespace RETURN c.key AS key")[0]["key"]
    view = memory.show(conversation=key)
    graph = memory.to_networkx(conversation=key)
    _check_consistent(view, graph)
    kinds = [n["data"]["kind"] for n in view.spec["nodes"]]
    assert kinds.count("conversation") == 1 and kinds.count("session") == 3
    assert kinds.count("episode") == memory.stats()["nodes"]["Episode"]
    types = [e["data"]["type"] for e in view.spec["edges"]]
    assert types.count("OF") == 3 and types.count("IN") == kinds.count("episode")
    assert types.count("NEXT") == kinds.count("episode") - 1


def test_show_rejects_bad_selectors(memory):
    with pytest.raises(InputError, match="exactly one"):
        memory.show(entity="Tom", conversation="sample-priya-tom")
    with pytest.raises(InputError, match="exactly one"):
        memory.show()
    with pytest.raises(InputError, match="no conversation 'nope'"):
        memory.show(conversation="nope")
    with pytest.raises(InputError, match="no entity named"):
        memory.show(entity="Nobody-Here")
    with pytest.raises(InputError, match="takes a Hit"):
        memory.show(hit="turn S3:6")
    with pytest.raises(InputError, match="limit must be a positive integer"):
        memory.show(entity="Tom", limit=0)
    with pytest.raises(InputError, match="height must be"):
        memory.show(entity="Tom", height=10)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _offline(page: str) -> None:
    assert 'src="http' not in page and "src='http" not in page
    parser = _Tags()
    parser.feed(page)
    assert [tag for tag, _ in parser.tags if tag == "script"] == ["script"] * 3
    for tag, attrs in parser.tags:
        assert "src" not in attrs and "href" not in attrs, (tag, attrs)
        assert tag not in ("link", "iframe", "img"), tag
    for network in ("XMLHttpRequest", "fetch(", "WebSocket", "import(", "@import"):
        assert network not in page, network


def test_html_page_escapes_user_text():
    import networkx as nx

    graph = nx.MultiDiGraph(kind="entity", root="a")
    graph.add_node("a", kind="entity", label="</script><script>alert(1)</script>")
    graph.add_node("b", kind="turn", label="[bold red]x & y")
    graph.add_edge("a", "b", type="FROM")
    page = to_html(graph_spec(graph, title="<b>title</b>"))
    _offline(page)
    assert "<script>alert" not in page and "<b>title" not in page
    spec = re.search(r'<script type="application/json" id="graphmem-spec">(.*?)</script>', page, re.S).group(1)
    assert json.loads(spec)["nodes"][0]["data"]["label"] == "</script><script>alert(1)</script>"


def _cli_page(store, tmp_path, *selector):
    target = tmp_path / "graph.html"
    result = CliRunner().invoke(app, ["show", "--store", str(store), "--namespace", "show", *selector,
                                      "--html", str(target), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["html"] == str(target) and target.is_file()
    return target, summary


def test_cli_show_writes_an_offline_page(memory, store, tmp_path):
    target, summary = _cli_page(store, tmp_path, "--entity", "Biscuit")
    graph = memory.to_networkx(entity="Biscuit")
    assert (summary["nodes"], summary["edges"]) == (graph.number_of_nodes(), graph.number_of_edges())
    page = target.read_text(encoding="utf-8")
    _offline(page)
    assert "graphmemRender" in page and "Cytoscape Consortium" in page  # the library and its licence notice, inlined


def test_cli_show_errors_exit_2_and_write_nothing(store, tmp_path):
    runner = CliRunner()
    target = tmp_path / "out.html"
    for args, message in (
        (["--entity", "Nobody-Here"], "no entity named"),
        (["--entity", "Tom", "--episode", "x"], "exactly one of"),
        ([], "exactly one of"),
        (["--query", "!!!"], "no hits"),
    ):
        result = runner.invoke(app, ["show", "--store", str(store), "--namespace", "show", *args, "--html", str(target)])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output
        assert not target.exists() and list(tmp_path.iterdir()) == []
    result = runner.invoke(app, ["show", "--store", str(store), "--namespace", "show", "--entity", "Tom",
                                 "--html", str(tmp_path / "missing" / "out.html")])
    assert result.exit_code == 2 and "does not exist" in result.output


def _chromium(page, tmp_path, *args):
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               f"--user-data-dir={tmp_path / 'chromium-profile'}", "--host-resolver-rules=MAP * ~NOTFOUND",
               "--virtual-time-budget=5000", "--window-size=1280,800", *args, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=True)


@needs_chromium
@pytest.mark.slow
@pytest.mark.parametrize("selector", [("--entity", "Biscuit"), ("--query", QUESTION, "--strategy", "activation")], ids=["entity", "hit"])
def test_chromium_draws_every_node(store, tmp_path, selector):
    """The page, opened with every host unresolvable, draws all nodes inside the canvas."""
    from PIL import Image

    target, summary = _cli_page(store, tmp_path, *selector)
    dom = _chromium(target, tmp_path, "--dump-dom").stdout
    view = re.search(r'<div id="graphmem-view"[^>]*>', dom)
    assert view, dom[:2000]
    attrs = dict(re.findall(r'(data-graphmem-\w+)="(\d+)"', view.group(0)))
    assert attrs == {"data-graphmem-nodes": str(summary["nodes"]), "data-graphmem-edges": str(summary["edges"]),
                     "data-graphmem-drawn": str(summary["nodes"])}
    assert dom.count('class="gm-chip"') >= 2  # the legend: one chip per kind

    colours = {tuple(int(KIND_COLOURS[k][i:i + 2], 16) for i in (1, 3, 5)): k for k in ("entity", "event", "turn", "hit")}
    expected = ("entity", "event", "turn") if selector[0] == "--entity" else ("hit", "entity", "turn")
    for attempt in range(3):  # on a loaded machine headless Chromium now and then shoots before the canvas is painted
        shot = tmp_path / f"shot{attempt}.png"
        _chromium(target, tmp_path, f"--screenshot={shot}")
        canvas = Image.open(shot).convert("RGB").crop((20, 60, 960, 600))  # the drawing, left of the property panel
        counts = dict.fromkeys(colours.values(), 0)
        for pixel, count in ((p, c) for c, p in canvas.getcolors(maxcolors=1 << 20)):
            if pixel in colours:
                counts[colours[pixel]] += count
        if all(counts[kind] > 200 for kind in expected):
            break
    for kind in expected:  # each kind's nodes are painted (a node of 26 px is ~500 pixels)
        assert counts[kind] > 200, (kind, counts)


@needs_chromium
@pytest.mark.slow
def test_widget_module_renders_in_chromium(memory, tmp_path):
    """The widget's ES module, loaded the way anywidget loads it (a blob URL), draws the view
    through a minimal stand-in for the Jupyter widget model."""
    from graphmem.explore.html import _script_json
    from graphmem.explore.widget import GraphWidget

    view = memory.show(entity="Biscuit")
    page = tmp_path / "widget.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><style>" + GraphWidget._css + "</style></head><body>"
        "<div id='host'></div>"
        "<script type='text/plain' id='esm'>" + GraphWidget._esm.replace("</script", "<\\/script") + "</script>"
        "<script type='application/json' id='spec'>" + _script_json(view.spec) + "</script>"
        "<script type='module'>\n"
        "const spec = JSON.parse(document.getElementById('spec').textContent);\n"
        "const model = { get: (key) => spec, on: () => {}, set: () => {}, save_changes: () => {} };\n"
        "const url = URL.createObjectURL(new Blob([document.getElementById('esm').textContent], {type: 'text/javascript'}));\n"
        "const widget = (await import(url)).default;\n"
        "const host = document.getElementById('host');\n"
        "widget.render({ model, el: host });\n"
        "host.setAttribute('data-rendered', 'yes');\n"
        "</script></body></html>", encoding="utf-8")
    dom = _chromium(page, tmp_path, "--dump-dom").stdout
    host = re.search(r'<div id="host"[^>]*>', dom)
    assert host and 'data-rendered="yes"' in host.group(0), dom[:1500]
    assert f'data-graphmem-nodes="{view.node_count}"' in host.group(0)
    assert f'data-graphmem-drawn="{view.node_count}"' in host.group(0)


def test_show_on_every_backend(memory_factory, conversation_file, tmp_path):
    """The same views, with stored properties, on the embedded store and over Bolt."""
    memory = memory_factory()
    memory.ingest(conversation_file)
    view = memory.show(conversation="contract-maya-leo")
    kinds = [n["data"]["kind"] for n in view.spec["nodes"]]
    assert kinds.count("conversation") == 1 and kinds.count("session") == 2 and kinds.count("episode") >= 2
    sessions = {n["data"]["props"]["key"]: n["data"]["props"] for n in view.spec["nodes"] if n["data"]["kind"] == "session"}
    assert set(sessions) == {"1", "2"} and str(sessions["2"]["started_at"]).startswith("2024-05-18")
    entity = memory.show(entity="Biscuit")
    turns = sorted(n["data"]["props"]["source_id"] for n in entity.spec["nodes"] if n["data"]["kind"] == "turn")
    assert "D1:2" in turns and "D1:3" in turns
    json.dumps(entity.spec)
    assert not any("embedding" in key for key in _all_keys(entity.spec))
    path = entity.save_html(tmp_path / "entity.html")
    _offline(path.read_text(encoding="utf-8"))


@needs_chromium
@pytest.mark.slow
def test_clicking_a_node_shows_its_properties_in_chromium(memory, tmp_path):
    """A tap on a node fills the side panel with its stored properties and reports the selection."""
    from graphmem.explore import to_html

    view = memory.show(entity="Biscuit")
    turn = next(n["data"] for n in view.spec["nodes"] if n["data"]["kind"] == "turn" and n["data"]["props"]["source_id"] == "S2:3")
    probe = (
        "<script>\n"
        "var host = document.createElement('div'); document.body.appendChild(host);\n"
        "var picked = null;\n"
        "var cy = graphmemRender(host, JSON.parse(document.getElementById('graphmem-spec').textContent), graphmemCytoscape,"
        " function (selection) { picked = selection; });\n"
        f"cy.getElementById({json.dumps(turn['id'])}).emit('tap');\n"
        "host.setAttribute('data-panel', host.querySelector('.gm-panel').textContent);\n"
        "host.setAttribute('data-picked', picked ? picked.id + '|' + picked.properties.source_id : 'none');\n"
        "host.setAttribute('data-faded', String(cy.elements('.gm-faded').length));\n"
        "host.id = 'probe';\n"
        "</script>\n</body>")
    page = tmp_path / "click.html"
    page.write_text(to_html(view.spec).replace("</body>", probe, 1), encoding="utf-8")
    dom = _chromium(page, tmp_path, "--dump-dom").stdout
    probe_tag = re.search(r'<div [^>]*id="probe"[^>]*>', dom)
    assert probe_tag, dom[-2000:]
    attrs = dict(re.findall(r'(data-[\w-]+)="([^"]*)"', probe_tag.group(0)))
    assert attrs["data-picked"] == f"{turn['id']}|S2:3"
    assert "Her name is Biscuit" in attrs["data-panel"] and "source_id" in attrs["data-panel"]
    assert int(attrs["data-faded"]) > 0  # everything but the node's neighbourhood is dimmed
