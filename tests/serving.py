"""Test helpers for the server tests: uvicorn on a free loopback port, in a thread of this process."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterator

from graphmem.bench.serve import free_port
from graphmem.server import MemoryHub, Server, create_app


@contextmanager
def running(hub: MemoryHub, *, token: str | None = None, max_body: int | None = None, close_hub: bool = False) -> Iterator[str]:
    """Serve ``hub`` on a free loopback port in a thread; yield its base URL; stop it afterwards."""
    kwargs = {} if max_body is None else {"max_body": max_body}
    app = create_app(hub, token=token, close_hub=close_hub, **kwargs)
    port = free_port()
    server = Server(app, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        thread.join(timeout=30)
