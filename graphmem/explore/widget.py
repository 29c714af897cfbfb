"""The interactive graph as a Jupyter widget (anywidget), drawing a view spec offline.

Needs ``anywidget`` (``pip install "graphmem[notebooks]"``); the JavaScript is shipped in the
package, so the widget works without network access.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from graphmem.errors import ConfigurationError
from graphmem.explore.html import to_html, write_html
from graphmem.explore.view import javascript, stylesheet

try:
    import anywidget
    import traitlets
except ImportError as exc:  # pragma: no cover - optional dependency
    raise ConfigurationError("the interactive graph needs anywidget: pip install 'graphmem[notebooks]'") from exc

__all__ = ["GraphWidget"]

_RENDER = """
export default {
  render({ model, el }) {
    const select = (selected) => { model.set("selected", selected); model.save_changes(); };
    let cy = graphmemRender(el, model.get("spec"), graphmemCytoscape, select);
    model.on("change:spec", () => { cy.destroy(); cy = graphmemRender(el, model.get("spec"), graphmemCytoscape, select); });
    return () => cy.destroy();
  },
};
"""


class GraphWidget(anywidget.AnyWidget):
    """An interactive node-link view of a memory subgraph (pan, zoom, click for properties).

    Build it with :meth:`graphmem.Memory.show`. ``spec`` is the view spec drawn
    (:func:`graphmem.explore.view.graph_spec`); ``selected`` holds the properties of the node or
    edge last clicked in the browser.

    Example:
        >>> view = memory.show(entity="Biscuit")   # doctest: +SKIP
        >>> view                                   # doctest: +SKIP  (draws in Jupyter)
        >>> view.save_html("biscuit.html")         # doctest: +SKIP
    """

    _esm = javascript() + _RENDER
    _css = stylesheet()
    spec = traitlets.Dict().tag(sync=True)
    selected = traitlets.Dict().tag(sync=True)

    def __init__(self, spec: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(spec=dict(spec), **kwargs)

    @property
    def node_count(self) -> int:
        """How many nodes the view draws."""
        return len(self.spec.get("nodes", []))

    @property
    def edge_count(self) -> int:
        """How many edges the view draws."""
        return len(self.spec.get("edges", []))

    def to_html(self) -> str:
        """The view as a standalone HTML page (JavaScript inlined, nothing loaded from the network)."""
        return to_html(self.spec)

    def save_html(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_html` to ``path``; returns the path."""
        return write_html(self.spec, path)

    def __repr__(self) -> str:
        return f"GraphWidget({self.spec.get('title')!r}, nodes={self.node_count}, edges={self.edge_count})"
