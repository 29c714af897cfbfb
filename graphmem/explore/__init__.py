"""Exploring a memory: subgraphs as networkx graphs and an interactive view of them.

- :mod:`~graphmem.explore.subgraphs`: bounded subgraphs (entity neighbourhood, episode,
  conversation, the path behind a hit) as ``networkx.MultiDiGraph``.
- :mod:`~graphmem.explore.view`: a subgraph as a view spec for cytoscape.js (colours, labels,
  positions, stored properties) and the drawing code, all shipped in the package.
- :mod:`~graphmem.explore.html`: a view as one standalone, offline HTML page.
- :mod:`~graphmem.explore.widget`: a view as a Jupyter widget (needs ``anywidget``; imported
  on use).

Static pictures are in :mod:`graphmem.plots`.
"""

from graphmem.explore.html import to_html, write_html
from graphmem.explore.subgraphs import (
    columns_layout, conversation_graph, entity_graph, episode_graph, explanation_graph, short,
)
from graphmem.explore.view import KIND_COLOURS, build_spec, graph_spec, hit_caption, node_properties, view_title

__all__ = [
    "KIND_COLOURS", "build_spec", "columns_layout", "conversation_graph", "entity_graph", "episode_graph",
    "explanation_graph", "graph_spec", "hit_caption", "node_properties", "short", "to_html", "view_title", "write_html",
]
