"""The stdio channel of ``graphmem mcp``, which stops cleanly: calls in flight are answered first.

The MCP SDK's own stdio transport has no stop of its own: a SIGTERM raised in its event loop
ended it where it stood, so the tool call in flight ran to its end and committed, but its answer
was never written and the client read the end of the stream (an ``add_memory`` it then sent
again without message ids was stored twice). Its reading thread, blocked on a pipe the client
keeps open, also held the process's exit.

Here the SDK's transport (:func:`mcp.server.stdio.stdio_server`) is given the process's stdin
and stdout as objects of graphmem's, which see every JSON-RPC message pass and so know the
requests not yet answered. A stop signal (or the client closing stdin) ends the stream of
requests the server reads only once those are answered, within :data:`GRACE_SECONDS`, as
``graphmem serve`` gives its requests in flight; a request that arrives meanwhile is refused at
once with an error naming the stop, and is not run. A second signal stops waiting (the work in
progress still ends whole before the store is closed: closing the hub waits for it).

As the SDK does, stdin and stdout are taken for the protocol while it runs: fd 0 reads the null
device and fd 1 writes to stderr, so stray output of a library (the JVM's, a progress bar) never
reaches the client as a broken message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any, Awaitable, Callable

from graphmem.errors import ConfigurationError
from graphmem.signals import STOP_SIGNALS, handle_signals

__all__ = ["GRACE_SECONDS", "STOPPING_CODE", "serve_stdio"]

logger = logging.getLogger(__name__)

GRACE_SECONDS = 30
"""How long a stop waits for the calls in flight to be answered (``graphmem serve`` gives its
requests in flight as long: :data:`graphmem.server.run.GRACE_SECONDS`)."""
STOPPING_CODE = -32000
"""The JSON-RPC error code of a request refused because the server is stopping (the range
-32000 to -32099 is the implementation's own)."""
READ_AHEAD = 64
"""Lines read from stdin ahead of the server: a client that writes faster waits (the pipe fills)."""


class _Eof:
    """The client closed stdin."""


class _Stop:
    """A stop signal arrived."""

    def __init__(self, signum: int) -> None:
        self.signum = signum


class _Idle:
    """The last call in flight was answered."""


_EOF, _IDLE = _Eof(), _Idle()


class _Wire:
    """The process's stdin and stdout, taken for the protocol (fd 0 reads the null device, fd 1
    writes to stderr while it runs) and given back by :meth:`restore`."""

    def __init__(self) -> None:
        try:
            self.reading = os.dup(0)
            self.writing = os.dup(1)
            null = os.open(os.devnull, os.O_RDONLY)
            try:
                os.dup2(null, 0)
            finally:
                os.close(null)
            os.dup2(2, 1)
        except OSError as exc:
            raise ConfigurationError(f"graphmem mcp needs a stdin and a stdout to serve: {exc.strerror or exc}") from None

    def restore(self) -> None:
        """Give fd 0 and fd 1 back. The reading duplicate stays open: the reading thread may still be
        blocked on it (a descriptor closed under a read could be recycled and read by mistake)."""
        try:
            sys.stdout.flush()  # what a library printed meanwhile goes where fd 1 pointed (stderr)
        except (OSError, ValueError):
            pass
        os.dup2(self.reading, 0)
        os.dup2(self.writing, 1)
        os.close(self.writing)


def _request_id(message: Any) -> tuple[str, Any] | None:
    """The id of a JSON-RPC request (a message with a method and an id), keyed by its JSON type."""
    if isinstance(message, dict) and "method" in message and message.get("id") is not None:
        return type(message["id"]).__name__, message["id"]
    return None


def _valid_request_id(line: str) -> tuple[str, Any] | None:
    """The id of ``line`` as the SDK reads it, when the SDK reads it as a request (which it answers,
    under that id: ``1.0`` read as ``1``); ``None`` for a line it cannot read, which it never answers."""
    from mcp import types

    try:
        message = types.jsonrpc_message_adapter.validate_json(line)
    except ValueError:  # (pydantic's ValidationError)
        return None
    if not isinstance(message, types.JSONRPCRequest):
        return None
    return type(message.id).__name__, message.id


def _answer_id(message: Any) -> tuple[str, Any] | None:
    """The id a JSON-RPC response (a result or an error) answers."""
    if isinstance(message, dict) and "method" not in message and ("result" in message or "error" in message):
        if message.get("id") is not None:
            return type(message["id"]).__name__, message["id"]
    return None


class _Channel:
    """stdin and stdout as the SDK's transport reads and writes them (``async for line in
    stdin``, ``await stdout.write(text)``, ``await stdout.flush()``), keeping count of the
    requests not yet answered."""

    def __init__(self, wire: _Wire, loop: asyncio.AbstractEventLoop) -> None:
        import anyio

        self._wire = wire
        self._loop = loop
        self._send, self._events = anyio.create_memory_object_stream[Any](float("inf"))
        self._room = threading.Semaphore(READ_AHEAD)
        self._writing = anyio.Lock()
        self._in_flight: set[tuple[str, Any]] = set()
        self.stopped_by: int | None = None
        self._stopping = False
        self._forced = False
        self._deadline = 0.0

    # ------------------------------------------------------------------ stdin
    def start(self) -> None:
        """Start the thread reading stdin (a daemon: a pipe the client keeps open must not hold the exit)."""
        threading.Thread(target=self._read, name="graphmem-mcp-stdin", daemon=True).start()

    def _read(self) -> None:
        try:
            with open(self._wire.reading, "rb", closefd=False) as stream:
                for line in stream:
                    self._room.acquire()
                    self._loop.call_soon_threadsafe(self._send.send_nowait, line)
        except RuntimeError:  # the event loop is closed: the server ended
            return
        except (OSError, ValueError) as exc:  # an unreadable stdin ends the stream as its end would
            logger.warning("reading stdin failed: %s", exc)
        try:
            self._loop.call_soon_threadsafe(self._send.send_nowait, _EOF)
        except RuntimeError:
            pass

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        """The handler of the stop signals while serving: hands the stop to the event loop."""
        self._loop.call_soon_threadsafe(self._send.send_nowait, _Stop(signum))

    def __aiter__(self) -> "_Channel":
        return self

    async def __anext__(self) -> str:
        import anyio

        while True:
            if self._stopping and (self._forced or not self._in_flight):
                raise StopAsyncIteration  # the server reads the end of the stream and ends
            item: Any = None
            if self._stopping:
                with anyio.move_on_after(max(0.0, self._deadline - time.monotonic())):
                    item = await self._events.receive()
                if item is None:
                    logger.warning("stopping with %d call(s) unanswered after %d s", len(self._in_flight), GRACE_SECONDS)
                    raise StopAsyncIteration
            else:
                item = await self._events.receive()
            if isinstance(item, _Stop):
                self._stop(item.signum)
            elif item is _EOF:
                self._stop(None)
            elif isinstance(item, bytes):
                self._room.release()
                line = item.decode("utf-8", errors="replace")
                if await self._admit(line):
                    return line

    def _stop(self, signum: int | None) -> None:
        if signum is not None:
            if self.stopped_by is not None:
                self._forced = True  # a second signal: stop waiting for the answers
                logger.warning("second stop signal: %d call(s) left unanswered", len(self._in_flight))
                return
            self.stopped_by = signum
        if not self._stopping:
            self._stopping = True
            self._deadline = time.monotonic() + GRACE_SECONDS
            logger.info("stopping (%s): %d call(s) in flight", signal.Signals(signum).name if signum else "stdin closed",
                        len(self._in_flight))

    async def _admit(self, line: str) -> bool:
        """Whether ``line`` goes on to the server: a request after the stop is refused here."""
        try:
            message = json.loads(line)
        except ValueError:
            return not self._stopping  # the SDK answers the parse error (none after the stop)
        if isinstance(message, dict) and message.get("method") == "notifications/cancelled":
            params = message.get("params")
            cancelled = params.get("requestId") if isinstance(params, dict) else None
            if cancelled is not None:  # a cancelled request gets no answer: it is not waited for
                self._answered((type(cancelled).__name__, cancelled))
        key = _request_id(message)
        if key is None:
            return True
        if self._stopping:
            await self._write_line(json.dumps({"jsonrpc": "2.0", "id": message["id"], "error": {
                "code": STOPPING_CODE, "message": "graphmem mcp is stopping: this call was not run"}}))
            return False
        counted = _valid_request_id(line)
        if counted is not None:  # (the SDK answers no request it cannot read: one with params "oops" is not waited for)
            self._in_flight.add(counted)
        return True

    def _answered(self, key: tuple[str, Any]) -> None:
        if key in self._in_flight:
            self._in_flight.discard(key)
            if not self._in_flight and self._stopping:
                self._send.send_nowait(_IDLE)

    # ----------------------------------------------------------------- stdout
    async def write(self, text: str) -> None:
        """Write one message of the SDK's (a JSON line) to the client."""
        await self._write_line(text.rstrip("\n"))
        try:
            key = _answer_id(json.loads(text))
        except ValueError:
            key = None
        if key is not None:
            self._answered(key)

    async def flush(self) -> None:
        """Nothing to flush: :meth:`write` writes straight to the pipe."""

    async def _write_line(self, line: str) -> None:
        import anyio

        data = (line + "\n").encode("utf-8")
        async with self._writing:  # one message at a time: lines never interleave
            await anyio.to_thread.run_sync(_write_all, self._wire.writing, data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def serve_stdio(run: Callable[[Any, Any], Awaitable[None]]) -> int | None:
    """Serve MCP over this process's stdin and stdout until the client closes stdin or a stop
    signal comes; either way the calls in flight are answered first (see the module).

    Args:
        run: ``run(stdin, stdout)``, the server's loop over the SDK's stdio transport given these streams.

    Returns:
        The signal that stopped it, if one did.

    Raises:
        ConfigurationError: the process has no stdin or stdout.
    """
    import anyio

    async def main() -> int | None:
        channel = _Channel(wire, asyncio.get_running_loop())
        channel.start()
        with handle_signals(channel.on_signal, STOP_SIGNALS):
            await run(channel, channel)
        return channel.stopped_by

    wire = _Wire()
    try:
        return anyio.run(main)
    finally:
        wire.restore()
