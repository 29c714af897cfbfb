"""Running the HTTP server in this process: uvicorn, loopback-or-token, clean stop on signals."""

from __future__ import annotations

import ipaddress
import logging
import socket
from types import FrameType
from typing import Any, Callable, Iterator
from contextlib import contextmanager

from graphmem.errors import ConfigurationError
from graphmem.server.http import DEFAULT_MAX_BODY, create_app
from graphmem.server.hub import MemoryHub
from graphmem.signals import STOP_SIGNALS, handle_signals

__all__ = ["serve", "is_loopback", "require_safe_bind", "listen_socket", "Server"]

logger = logging.getLogger(__name__)

GRACE_SECONDS = 30
"""How long a graceful stop waits for requests in flight to be answered."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_safe_bind(host: str, token: str | None) -> None:
    """Refuse to serve a non-loopback address without a token.

    Raises:
        ConfigurationError: ``host`` is reachable from other machines and ``token`` is None.
    """
    if token is None and not is_loopback(host):
        raise ConfigurationError(f"refusing to serve {host} without a token: set --token or GRAPHMEM_TOKEN "
                                 "(only a loopback address may be served without one)")


def _uvicorn() -> Any:
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - a dependency of graphmem
        raise ConfigurationError("the server needs 'uvicorn' and 'fastapi': pip install fastapi uvicorn") from exc
    return uvicorn


class Server:
    """uvicorn serving the graphmem app, whose stop signals end it gracefully.

    uvicorn's own signal capture re-raises the signal after shutting down (the process then
    dies of it); here SIGTERM/SIGINT/SIGHUP stop accepting, let requests in flight finish, close the
    store, and :meth:`run` returns the signal number (``None`` when stopped otherwise).
    """

    def __init__(self, app: Any, host: str, port: int, *, log_level: str = "warning") -> None:
        uvicorn = _uvicorn()
        outer = self

        class _Quiet(uvicorn.Server):  # type: ignore[misc, name-defined]
            @contextmanager
            def capture_signals(self) -> Iterator[None]:
                def stop(signum: int, frame: FrameType | None) -> None:
                    if outer.stopped_by is not None:  # a second signal: stop waiting for requests
                        self.force_exit = True
                        outer.forced = True
                    outer.stopped_by = signum
                    self.should_exit = True

                with handle_signals(stop, STOP_SIGNALS):
                    yield

            async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
                for server in self.servers:  # stop accepting first (as uvicorn's shutdown does): no new stream can open
                    server.close()
                for sock in sockets or []:
                    sock.close()
                stopping = getattr(app, "stopping", None)  # the graphmem app: end its MCP event streams
                if stopping is not None:
                    stopping()
                await super().shutdown(sockets)

        # Requests in flight get GRACE_SECONDS to be answered (a bound, should a connection stay open
        # for another reason: the MCP clients' event streams are ended at the stop); past it their connections close,
        # but the work itself still ends whole: closing the hub waits for each namespace's work in
        # progress (Memory.close takes the namespace lock), so the store never closes under a transaction.
        config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on",
                                timeout_graceful_shutdown=GRACE_SECONDS, access_log=False)
        self._server = _Quiet(config)
        self.stopped_by: int | None = None
        self.forced = False

    @property
    def started(self) -> bool:
        """True once the socket listens."""
        return bool(self._server.started)

    def stop(self) -> None:
        """Ask the server to shut down gracefully (from any thread)."""
        self._server.should_exit = True

    def run(self, sock: socket.socket | None = None) -> int | None:
        """Serve until stopped; returns the stop signal's number, if a signal stopped it."""
        quiet = _CancelledOnForcedStop(self)
        log = logging.getLogger("uvicorn.error")
        log.addFilter(quiet)
        try:
            self._server.run(sockets=[sock] if sock is not None else None)
        finally:
            log.removeFilter(quiet)
        return self.stopped_by


class _CancelledOnForcedStop(logging.Filter):
    """Drops uvicorn's tracebacks of the tasks a second stop signal cancels (the application's
    lifespan waiting for shutdown, whose traceback starlette sends as text): that stop is asked
    for, not an error. Requests in flight are
    answered 503 by the app (see ``GuardMiddleware``)."""

    def __init__(self, server: Server) -> None:
        super().__init__()
        self.server = server

    def filter(self, record: logging.LogRecord) -> bool:
        import asyncio

        cancelled = ((record.exc_info is not None and isinstance(record.exc_info[1], asyncio.CancelledError))
                     or record.getMessage().rstrip().endswith("CancelledError"))  # (the lifespan's, sent as text)
        return not (self.server.forced and cancelled)


def serve(hub: MemoryHub, host: str = "127.0.0.1", port: int = 8765, *, token: str | None = None,
          max_body: int = DEFAULT_MAX_BODY, on_ready: Callable[[str], None] | None = None,
          sock: socket.socket | None = None) -> int | None:
    """Serve ``hub`` over HTTP (and MCP at ``/mcp``) until SIGTERM/SIGINT/SIGHUP; the hub and ``sock`` are
    closed on return.

    Args:
        sock: the socket to serve, from :func:`listen_socket` (bound before the hub was opened, so a
            taken port fails before the store is opened); ``None``: bound here.

    Returns:
        The signal that stopped the server, if any.

    Raises:
        ConfigurationError: a non-loopback ``host`` without a ``token``.
    """
    try:
        require_safe_bind(host, token)
        if sock is None:
            sock = listen_socket(host, port)
    except BaseException:
        if sock is not None:
            sock.close()
        hub.close()
        raise
    app = create_app(hub, token=token, max_body=max_body, host=host)
    server = Server(app, host, port)

    def ready(url: str) -> None:
        try:  # a notebook or CLI refused the store is told where it is
            hub.store.announce(f"graphmem serve at {url}")
        except OSError as exc:  # (the lock file could not be written: the server serves all the same)
            logger.warning("could not note the server's address in the store's lock file: %s", exc)
        if on_ready is not None:
            on_ready(url)

    _announce_when_started(server, host, port, ready)
    try:
        return server.run(sock)
    finally:
        sock.close()
        hub.close()  # also when startup failed (the lifespan then never ran)


def listen_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port``, so a taken port is one clear error before serving starts.

    Raises:
        ConfigurationError: the address cannot be bound (in use, not this machine's, no permission).
    """
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    # named TCP, so the connections it accepts are too: asyncio sets TCP_NODELAY only on sockets
    # whose protocol says TCP, and without it every response after a connection's first waited
    # ~40 ms (its body held back by Nagle until the client's delayed ACK of the headers)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
        sock.set_inheritable(True)
    except OSError as exc:
        sock.close()
        raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def _announce_when_started(server: Server, host: str, port: int, on_ready: Callable[[str], None]) -> None:
    import threading
    import time

    def wait() -> None:
        while not server.started and server.stopped_by is None:
            time.sleep(0.05)
        if server.started:
            shown = f"[{host}]" if ":" in host else host
            on_ready(f"http://{shown}:{port}")

    threading.Thread(target=wait, name="graphmem-serve-ready", daemon=True).start()
