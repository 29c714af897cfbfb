"""``graphmem bench serve``: a served memory under concurrent clients.

A ``graphmem serve`` process on a free loopback port, over an embedded store; N client threads
(each its own :class:`graphmem.Client`, all in one namespace, each its own conversation) add one
message and run one search, in a loop, for a fixed time. Then every acknowledged message must
be stored exactly once, the integrity check must be clean, and SIGTERM must stop the server
with exit status 0.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import numpy as np

from graphmem.client import Client
from graphmem.errors import GraphmemError

__all__ = ["bench_serve", "start_server_process", "free_port"]

NAMESPACE = "bench-serve"
_PEOPLE = ("Maya", "Leo", "Priya", "Tom", "Ana", "Omar")
_VERBS = ("visited", "repaired", "painted", "photographed", "cooked at", "cycled to")
_THINGS = ("the old lighthouse", "a pottery studio", "the community garden", "a night market", "the river trail",
           "an art museum", "the bakery on Elm Street", "a jazz club")
_QUERIES = ("Who visited the lighthouse?", "What did Priya cook?", "Where did Tom cycle to?", "Which museum was photographed?",
            "When was the garden painted?", "What happened at the night market?")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server_process(store: str, port: int, *, token: str | None = None, env: dict[str, str] | None = None,
                         timeout: float = 180.0, stderr: Any = None) -> subprocess.Popen:
    """Start ``graphmem serve --store STORE --port PORT`` and wait until ``/healthz`` answers.

    Raises:
        GraphmemError: the process ended, or did not answer within ``timeout`` seconds.
    """
    command = [sys.executable, "-m", "graphmem.cli", "serve", "--store", store, "--port", str(port)]
    if token:
        command += ["--token", token]
    process = subprocess.Popen(command, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                               stderr=stderr if stderr is not None else subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    with Client(f"http://127.0.0.1:{port}", timeout=2.0) as probe:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                detail = process.stderr.read() if process.stderr and stderr is None else ""
                raise GraphmemError(f"graphmem serve exited with status {process.returncode}: {detail.strip()[-500:]}")
            if probe.health():
                return process
            time.sleep(0.25)
    process.kill()
    process.wait()
    raise GraphmemError(f"graphmem serve did not answer on port {port} within {timeout:.0f} s")


def _stats(values: list[float], seconds: float, errors: int) -> dict[str, Any]:
    array = np.asarray(values or [0.0]) * 1000
    return {"requests": len(values), "per_second": round(len(values) / seconds, 2), "p50_ms": round(float(np.percentile(array, 50)), 1),
            "p95_ms": round(float(np.percentile(array, 95)), 1), "max_ms": round(float(array.max()), 1), "errors": errors}


def bench_serve(clients: int = 8, seconds: float = 30.0, *, store: str | None = None, namespace_per_client: bool = False,
                say: Callable[[str], None] = lambda message: None) -> dict[str, Any]:
    """Run the load test; returns figures and the after-run checks.

    Args:
        namespace_per_client: each client writes its own namespace (writes of different
            namespaces need not take turns) instead of all sharing one.

    Returns:
        ``endpoints`` (per endpoint: requests, per_second, p50_ms, p95_ms, max_ms, errors),
        ``errors`` (total, with ``error_samples``), ``messages_acknowledged``, ``messages_stored``,
        ``lost``, ``duplicated``, ``check_ok``, ``server_exit``.
    """
    with tempfile.TemporaryDirectory(prefix="graphmem-bench-serve-") as tmp:
        location = store or str(Path(tmp) / "store")
        port = free_port()
        say(f"starting graphmem serve on 127.0.0.1:{port} over {location} ...")
        log_path = Path(tmp) / "server.log"
        with log_path.open("w") as log:
            process = start_server_process(location, port, stderr=log)
            try:
                result = _run_clients(f"http://127.0.0.1:{port}", clients, seconds, say, namespace_per_client)
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    result_exit = process.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    process.kill()
                    result_exit = process.wait()
        result["server_exit"] = result_exit
        result["store"] = location if store else "temporary embedded store"
        if result_exit != 0:
            result["server_log_tail"] = log_path.read_text(errors="replace")[-2000:]
        return result


def _run_clients(url: str, clients: int, seconds: float, say: Callable[[str], None], per_client: bool) -> dict[str, Any]:
    latencies: dict[str, list[float]] = {"add": [], "search": []}
    errors: Counter[str] = Counter()
    samples: list[str] = []
    acknowledged: list[tuple[str, str]] = []
    lock = threading.Lock()
    namespaces = [f"{NAMESPACE}-{n}" if per_client else NAMESPACE for n in range(clients)]
    for namespace in dict.fromkeys(namespaces):  # the first add places topics and builds caches: not part of the figures
        with Client(url, namespace=namespace) as warm:
            warm.add([{"speaker": "Maya", "text": "Warm-up: the bench starts now."}], conversation="warm-up")
            warm.search("bench", k=5)
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(number: int) -> None:
        rng = random.Random(number)
        conversation = f"client-{number}"
        with Client(url, namespace=namespaces[number], timeout=120) as memory:
            start.wait()
            j = 0
            while time.monotonic() < deadline[0]:
                j += 1
                text = f"{rng.choice(_PEOPLE)} {rng.choice(_VERBS)} {rng.choice(_THINGS)} (note {number}-{j})."
                for endpoint, call in (("add", lambda: memory.add([{"speaker": rng.choice(_PEOPLE), "text": text}],
                                                                  conversation=conversation)),
                                       ("search", lambda: memory.search(rng.choice(_QUERIES), k=5))):
                    t0 = time.perf_counter()
                    try:
                        call()
                    except GraphmemError as exc:
                        with lock:
                            errors[endpoint] += 1
                            if len(samples) < 5:
                                samples.append(f"{endpoint}: {exc}")
                        continue
                    elapsed = time.perf_counter() - t0
                    with lock:
                        latencies[endpoint].append(elapsed)
                        if endpoint == "add":
                            acknowledged.append((conversation, text))

    threads = [threading.Thread(target=client, args=(n,), name=f"bench-client-{n}") for n in range(clients)]
    for thread in threads:
        thread.start()
    say(f"{clients} clients adding and searching for {seconds:g} s ...")
    deadline[0] = time.monotonic() + seconds
    started = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    say("checking what was stored ...")
    stored: Counter[tuple[str, str]] = Counter()
    reports = []
    for namespace in dict.fromkeys(namespaces):
        with Client(url, namespace=namespace, timeout=600) as memory:
            rows = memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace AND t.conversation_id STARTS WITH 'client-' "
                                 "RETURN t.conversation_id AS conversation, t.text AS text")
            reports.append(memory.check())
        stored.update((r["conversation"], r["text"]) for r in rows)
    report = {"ok": all(r.get("ok") for r in reports),
              "problems": {k: v for r in reports for k, v in (r.get("problems") or {}).items()}}
    acked = Counter(acknowledged)
    lost = sum(1 for key in acked if stored[key] == 0)
    duplicated = sum(1 for key, count in stored.items() if count > 1)
    total_requests = sum(len(v) for v in latencies.values())
    return {
        "clients": clients, "seconds": round(wall, 1), "namespaces": len(set(namespaces)),
        "throughput_per_s": round(total_requests / wall, 2),
        "endpoints": {name: _stats(values, wall, errors[name]) for name, values in latencies.items()},
        "errors": sum(errors.values()), "error_samples": samples,
        "messages_acknowledged": len(acknowledged), "messages_stored": sum(stored.values()),
        "lost": lost, "duplicated": duplicated, "check_ok": bool(report.get("ok")),
        "check_problems": {k: len(v) for k, v in (report.get("problems") or {}).items()},
    }
