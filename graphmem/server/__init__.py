"""Serving one memory to many clients: the HTTP JSON API and the MCP tools.

``graphmem serve`` opens one store (:class:`MemoryHub`), one Memory per namespace on it,
and serves them with FastAPI/uvicorn (:func:`create_app`, :func:`serve`); ``graphmem mcp``
serves the MCP tools over stdio (:func:`run_stdio`). The web stack is imported only here.
"""

from graphmem.errors import ConfigurationError

try:  # the web stack is the optional 'server' extra
    import fastapi  # noqa: F401
    import mcp  # noqa: F401
    import python_multipart  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ConfigurationError(f"serving needs the 'server' extra ({exc.name} is missing): pip install 'graphmem[server]'") from exc

from graphmem.server.http import create_app
from graphmem.server.hub import MemoryHub
from graphmem.server.mcp import build_mcp, run_stdio
from graphmem.server.run import Server, serve

__all__ = ["MemoryHub", "create_app", "build_mcp", "run_stdio", "serve", "Server"]
