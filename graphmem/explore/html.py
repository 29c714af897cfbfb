"""A view spec as one standalone HTML page: the JavaScript and CSS inlined, no network request."""

from __future__ import annotations

import html
import json
import logging
import os
from pathlib import Path
from typing import Any, Mapping

from graphmem.errors import InputError
from graphmem.explore.view import javascript, stylesheet

__all__ = ["check_target", "to_html", "write_html"]

logger = logging.getLogger(__name__)


def _script_json(data: Any) -> str:
    """JSON that cannot end the ``<script>`` element it sits in, whatever the user text in it."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def to_html(spec: Mapping[str, Any]) -> str:
    """The page for a view spec (see :func:`graphmem.explore.view.graph_spec`).

    The drawing code (cytoscape.js and graphmem's view) is inlined; the page loads nothing from
    the network and works from a file opened offline.
    """
    title = html.escape(str(spec.get("title") or "graphmem"))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{title} · graphmem</title>\n<style>\nbody {{ margin: 12px; }}\n{stylesheet()}</style>\n</head>\n<body>\n"
        "<div id=\"graphmem-view\"></div>\n"
        f"<script type=\"application/json\" id=\"graphmem-spec\">{_script_json(dict(spec))}</script>\n"
        f"<script>\n{javascript()}\n</script>\n"
        "<script>\ngraphmemRender(document.getElementById(\"graphmem-view\"),\n"
        "  JSON.parse(document.getElementById(\"graphmem-spec\").textContent), graphmemCytoscape);\n</script>\n"
        "</body>\n</html>\n"
    )


def check_target(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path if a page can be written there.

    Raises:
        InputError: the folder of ``path`` does not exist or ``path`` is a folder.
    """
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{target} is a folder; give a file name such as {target / 'graph.html'}")
    if not target.parent.is_dir():
        raise InputError(f"cannot write {target}: the folder {target.parent} does not exist")
    return target


def write_html(spec: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write the page for ``spec`` to ``path`` whole or not at all (a temporary file, then a rename).

    Raises:
        InputError: the folder of ``path`` does not exist or ``path`` is a folder.
    """
    target = check_target(path)
    page = to_html(spec)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as stream:
            stream.write(page)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    logger.info("wrote %s (%d nodes, %d edges)", target, len(spec.get("nodes", [])), len(spec.get("edges", [])))
    return target
