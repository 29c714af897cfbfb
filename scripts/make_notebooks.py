"""Write the notebooks in notebooks/ (without outputs) from the cells below.

Run: python scripts/make_notebooks.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent / "notebooks"

SETUP = '''import tempfile
from importlib import resources
from pathlib import Path

from graphmem import Memory
from graphmem import plots

store = Path(tempfile.mkdtemp(prefix="graphmem-notebook-")) / "store"
sample = resources.files("graphmem").joinpath("data", "sample_conversation.json")
memory = Memory.open(store, namespace="notebook")
with resources.as_file(sample) as path:
    report = memory.ingest(path)
report'''

NOTEBOOKS = {
    "01_quickstart.ipynb": [
        new_markdown_cell("# graphmem quickstart\n\nOpen a memory (an embedded store in a temporary directory), "
                          "ingest the bundled sample conversation, search it, and ask why a memory was returned."),
        new_code_cell(SETUP),
        new_markdown_cell("## What is in the graph"),
        new_code_cell("memory.stats()"),
        new_markdown_cell("## Search\n\n`strategy=\"auto\"` lets the router combine dense, lexical and graph signals; "
                          "every hit carries its provenance."),
        new_code_cell('hits = memory.search("What is the name of Tom\'s dog?", k=3)\n'
                      'for hit in hits:\n    print(f"{hit.score:.3f}  {hit.source_id}  session {hit.session_number}  {hit.speaker}: {hit.text}")\n'
                      'assert any("Biscuit" in h.text for h in hits)'),
        new_code_cell("hits[0]"),
        new_markdown_cell("## Why was it returned?"),
        new_code_cell("print(memory.explain(hits[0]))"),
        new_markdown_cell("## Sessions, and Cypher with parameters"),
        new_code_cell('for hit in memory.search("running a half marathon", k=2, unit="session"):\n'
                      '    print(hit.session_number, hit.timestamp, hit.score)'),
        new_code_cell('memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace AND t.speaker = $who RETURN count(t) AS turns", {"who": "Tom"})'),
        new_code_cell("memory.close()"),
    ],
    "02_exploring_a_memory_graph.ipynb": [
        new_markdown_cell("# Exploring a memory graph\n\nAn entity's neighbourhood, an episode timeline per speaker, "
                          "and a topic map of the memories."),
        new_code_cell(SETUP),
        new_code_cell("%matplotlib inline"),
        new_markdown_cell("## An entity's neighbourhood\n\nEvents are hyperedges: each joins every entity it involves."),
        new_code_cell('graph = memory.to_networkx(entity="Biscuit")\nprint(graph.number_of_nodes(), "nodes,", graph.number_of_edges(), "edges")\n'
                      'plots.draw_graph(graph, title="Biscuit and what it takes part in");'),
        new_markdown_cell("## Entity profile and aliases (a Cypher recipe)"),
        new_code_cell('from graphmem.resources import recipes\nprofile = {r.name: r for r in recipes()}["entity_profile"]\n'
                      'print(profile.description)\nmemory.cypher(profile.text, {"name": "Tom"})'),
        new_markdown_cell("## Episode timeline per speaker"),
        new_code_cell("plots.plot_episode_timeline(memory);"),
        new_markdown_cell("## An episode as a graph"),
        new_code_cell('episode = memory.cypher("MATCH (e:Episode) WHERE e.namespace = $namespace RETURN e.id AS id ORDER BY e.start_seq LIMIT 1")[0]["id"]\n'
                      'plots.draw_graph(memory.to_networkx(episode=episode), title="first episode");'),
        new_markdown_cell("## Topic map\n\nA 2-D projection of the event embeddings, coloured by their GMM topic."),
        new_code_cell('plots.plot_topic_map(memory, "event");'),
        new_code_cell("memory.close()"),
    ],
    "03_why_this_memory.ipynb": [
        new_markdown_cell("# Why this memory?\n\nThe strategies, seeds and edges behind a hit, drawn."),
        new_code_cell(SETUP),
        new_code_cell("%matplotlib inline"),
        new_code_cell('question = "Which animal did Tom take camping in Wales?"\n'
                      'hits = memory.search(question, k=3, strategy="activation")\n'
                      'for hit in hits:\n    print(f"{hit.score:.3f} {hit.source_id} {hit.text}")'),
        new_code_cell("print(memory.explain(hits[0]))"),
        new_code_cell("plots.plot_explanation(memory, hits[0]);"),
        new_markdown_cell("## The same question with the router (auto)"),
        new_code_cell('auto = memory.search(question, k=3)\nprint(memory.explain(auto[0]))\nplots.plot_explanation(memory, auto[0]);'),
        new_code_cell("memory.close()"),
    ],
}


def main() -> None:
    ROOT.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        notebook = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
        nbformat.write(notebook, ROOT / name)
        print("wrote", ROOT / name)


if __name__ == "__main__":
    main()
