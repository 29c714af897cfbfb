"""Clean stops: SIGTERM/SIGINT sent to real `graphmem ingest` and `graphmem serve` processes at random
moments. The process must print one line "interrupted", exit 143/130 (0 for serve and for mcp once serving), print no JVM
crash output and leave no crash log; the store must check clean, and a re-ingest must give the same
counts as an uninterrupted ingest."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import settings_for
from graphmem import Client, Memory
from graphmem.errors import StoreUnavailableError
from graphmem.bench.serve import free_port, start_server_process

REPO = Path(__file__).resolve().parent.parent
CRASH_MARKS = ("SIGSEGV", "fatal error", "hs_err", "A fatal error has been detected", "Traceback")
PEOPLE = ("Maya", "Leo")
PLACES = ("the lighthouse", "a pottery studio", "the river trail", "the night market", "an art museum", "the old bakery")
DOINGS = ("visited", "painted", "photographed", "talked about", "walked past", "booked a table at")


def long_conversation(directory: Path, turns_per_session: int = 40, sessions: int = 3) -> Path:
    """A native-format conversation long enough that a signal lands inside its ingest."""
    rng = random.Random(7)
    doc = {"format": "graphmem.conversation/1", "id": "signals", "speakers": list(PEOPLE), "sessions": [
        {"id": str(s + 1), "started_at": f"2024-0{s + 1}-10T18:00:00", "turns": [
            {"id": f"D{s + 1}:{t + 1}", "speaker": PEOPLE[t % 2],
             "text": f"On day {t + 1} I {rng.choice(DOINGS)} {rng.choice(PLACES)} with {rng.choice(('Omar', 'Ana', 'Priya'))}."}
            for t in range(turns_per_session)]} for s in range(sessions)]}
    path = directory / "signals.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def environment(tmp: Path) -> dict[str, str]:
    tmpdir = tmp / "tmpdir"
    tmpdir.mkdir(exist_ok=True)
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            "TMPDIR": str(tmpdir), "GRAPHMEM_JVM_HEAP": "512m", "GRAPHMEM_TOKEN": ""}


def assert_no_crash(tmp: Path, output: str) -> None:
    for mark in CRASH_MARKS:
        assert mark not in output, output[-3000:]
    leftovers = [p.name for p in (tmp / "tmpdir").iterdir() if p.name.startswith(("graphmem-jvm-error", "hs_err"))]
    leftovers += [p.name for p in tmp.glob("hs_err*")]
    assert not leftovers, leftovers


def counts(memory: Memory) -> tuple[dict, dict]:
    stats = memory.stats()
    return stats["nodes"], stats["relationships"]


def upload_in_background(port: int, source: Path) -> tuple[threading.Thread, dict]:
    """A thread ingesting ``source`` through a Client; its ``report`` or ``error`` lands in the dict."""
    outcome: dict = {}

    def upload() -> None:
        with Client(f"http://127.0.0.1:{port}", namespace="sig") as client:
            try:
                outcome["report"] = client.ingest(source)
            except Exception as exc:  # recorded and asserted on by the caller
                outcome["error"] = exc

    thread = threading.Thread(target=upload)
    thread.start()
    return thread, outcome


@pytest.fixture(scope="module")
def reference(tmp_path_factory, embedder):
    """What an uninterrupted ingest of the long conversation stores."""
    tmp = tmp_path_factory.mktemp("reference")
    source = long_conversation(tmp)
    with Memory.open(tmp / "store", "sig", settings=settings_for(tmp)) as memory:
        memory.ingest(source)
        return counts(memory)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_during_ingest_stops_cleanly(tmp_path, signum, reference):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    source = long_conversation(tmp_path)
    store = tmp_path / "store"
    process = subprocess.Popen([sys.executable, "-m", "graphmem.cli", "ingest", str(source), "--store", str(store),
                                "--namespace", "sig", "--json"], cwd=tmp_path, env=environment(tmp_path),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (store / "graphmem.lock").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    delay = rng.uniform(0.0, 6.0)  # from the store's opening to (usually) well inside the ingest
    time.sleep(delay)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=180)
    note = f"seed {seed}, signal after {delay:.2f} s, exit {process.returncode}"
    print(note)  # shown with -rP: which moment this run hit
    assert_no_crash(tmp_path, stdout + stderr)
    if process.returncode == 0:  # the ingest won the race: it must have finished whole
        assert json.loads(stdout)[0]["turns_added"] == 120, note
    else:
        assert process.returncode == 128 + signum, f"{note}\n{stderr[-2000:]}"
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert lines[-1].strip() == "interrupted" and sum("interrupted" in line for line in lines) == 1, f"{note}\n{stderr}"
        assert stdout.strip() == "", note
    with Memory.open(store, "sig", settings=settings_for(tmp_path)) as memory:
        report = memory.check()
        assert report.ok, f"{note}: {report.problems}"
        memory.ingest(source)
        assert counts(memory) == reference, note
        assert memory.check().ok


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=["SIGTERM", "SIGINT", "SIGHUP"])
def test_serve_stops_gracefully_with_a_request_in_flight(tmp_path, signum, reference):
    """SIGHUP too (the terminal or ssh session closed): it killed the server at once, the request reset."""
    source = long_conversation(tmp_path)
    store = tmp_path / "store"
    port = free_port()
    log = (tmp_path / "serve.log").open("w+")
    process = start_server_process(str(store), port, env=environment(tmp_path), stderr=log)
    thread, outcome = upload_in_background(port, source)
    time.sleep(random.uniform(0.5, 2.0))
    process.send_signal(signum)
    assert process.wait(timeout=180) == 0
    thread.join(timeout=60)
    log.seek(0)
    output = log.read()
    assert_no_crash(tmp_path, output)
    assert output.strip().splitlines()[-1] == "interrupted", output
    # graceful: the request in flight was answered whole, then the store was closed
    assert "report" in outcome, outcome
    assert outcome["report"]["turns_added"] == 120
    with Memory.open(store, "sig", settings=settings_for(tmp_path)) as memory:
        assert memory.check().ok
        assert counts(memory) == reference


@pytest.mark.slow
def test_a_second_signal_answers_the_request_in_flight_503_and_its_work_ends_whole(tmp_path, embedder):
    """A second SIGTERM stops waiting for requests in flight: uvicorn cancelled them and answered a
    plain-text 500 ("Internal Server Error", which Client read as StorageError) and logged tracebacks,
    for an ingest that went on to commit whole. Now: a 503 naming the stop (Client: StoreUnavailableError,
    an answer lost), no traceback, exit 0, and the work ended whole before the store closed."""
    source = long_conversation(tmp_path, turns_per_session=250, sessions=8)
    store = tmp_path / "store"
    port = free_port()
    log = (tmp_path / "serve.log").open("w+")
    process = start_server_process(str(store), port, env=environment(tmp_path), stderr=log)
    thread, outcome = upload_in_background(port, source)
    time.sleep(3.0)  # the upload is in and its ingest under way (2,000 turns: 15-30 s)
    process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=300) == 0
    thread.join(timeout=60)
    log.seek(0)
    output = log.read()
    assert_no_crash(tmp_path, output)
    assert output.strip().splitlines()[-1] == "interrupted", output
    print(sorted(outcome), outcome.get("error"))  # shown with -rP: which way this run went
    if "report" not in outcome:  # (the ingest may have won the race)
        assert isinstance(outcome.get("error"), StoreUnavailableError), outcome
        assert "the server stopped before answering" in str(outcome["error"]), outcome
    with Memory.open(store, "sig", settings=settings_for(tmp_path)) as memory:
        assert memory.check().ok
        assert memory.stats()["nodes"]["Turn"] == 2000  # one conversation, one transaction: whole


@pytest.mark.slow
def test_serve_stops_at_once_with_an_mcp_client_connected_and_answers_its_call_in_flight(tmp_path, embedder):
    """The MCP SDK's client holds an event stream open (GET /mcp) for as long as its session lasts:
    on SIGTERM, `graphmem serve` waited for it the whole grace (30 s: "timeout graceful shutdown
    exceeded"), then cancelled it with a CancelledError traceback in the log. The stop now ends the
    event streams at once; the tool call in flight is still answered, and its messages are stored."""
    import anyio
    from mcp import Client as MCPClient

    store = tmp_path / "store"
    port = free_port()
    log = (tmp_path / "serve.log").open("w+")
    process = start_server_process(str(store), port, env=environment(tmp_path), stderr=log)
    messages = [{"speaker": PEOPLE[i % 2], "text": f"On day {i} we walked to {PLACES[i % len(PLACES)]} and talked for hours.",
                 "id": f"m{i}"} for i in range(1000)]  # the most one add takes: seconds of work
    answered: dict = {}

    async def main() -> None:
        # the initialize handshake (mode="legacy": clients of the protocol before 2026), after which
        # the client opens its event stream
        client = MCPClient(f"http://127.0.0.1:{port}/mcp", read_timeout_seconds=240, mode="legacy")
        try:
            async with client:
                await client.list_tools()  # (known before the call: the client asks for them once)
                async def add() -> None:
                    result = await client.call_tool("add_memory", {"namespace": "sig", "conversation": "c", "messages": messages})
                    answered["added"] = json.loads("\n".join(b.text for b in result.content))["added"]

                async with anyio.create_task_group() as group:
                    group.start_soon(add)
                    await anyio.sleep(1.0)  # the add is under way
                    process.send_signal(signal.SIGTERM)
                # answered; the client stays connected (an agent keeps its session) while the server stops
                answered["exit"] = await anyio.to_thread.run_sync(lambda: process.wait(timeout=120))
        except Exception as exc:  # the client's own end (its DELETE of the session) finds the server gone
            answered.setdefault("closing", repr(exc))

    try:
        anyio.run(main)
        assert process.wait(timeout=120) == 0 and answered.get("exit") == 0, answered
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    log.seek(0)
    output = log.read()
    print(answered)  # shown with -rP
    assert answered.get("added") == 1000, (answered, output[-3000:])
    assert "timeout graceful shutdown exceeded" not in output and "CancelledError" not in output, output[-3000:]
    assert_no_crash(tmp_path, output)
    assert output.strip().splitlines()[-1] == "interrupted", output
    with Memory.open(store, "sig", settings=settings_for(tmp_path)) as memory:
        assert memory.stats()["nodes"]["Turn"] == 1000
        assert memory.check().ok


CTRL_C_IN_TORCH_IMPORT = """
import importlib.abc, os, signal, sys, traceback

class CtrlC(importlib.abc.MetaPathFinder):  # Ctrl-C while torch's own module code runs (it imports torch.nn)
    def find_spec(self, name, path=None, target=None):
        if name == "torch.nn":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, CtrlC())
from graphmem import Memory, Settings
memory = Memory.open(sys.argv[1] + "/store", "lib", settings=Settings(index_dir=sys.argv[1] + "/index", jvm_heap="512m"))
assert "torch" not in sys.modules
try:
    memory.add({"speaker": "ann", "text": "I adopted a cat named Miso.", "id": "m1"}, conversation="c")
    print("first add returned", flush=True)
except KeyboardInterrupt as exc:  # as a notebook catches it
    print("first add: KeyboardInterrupt from", traceback.extract_tb(exc.__traceback__)[-1].name, flush=True)
print("torch loaded:", hasattr(sys.modules.get("torch"), "cuda"), "handler back:", signal.getsignal(signal.SIGINT) is signal.default_int_handler)
print("second add:", memory.add({"speaker": "ann", "text": "She is two years old.", "id": "m2"}, conversation="c").added)
memory.close()
"""


def test_ctrl_c_during_a_library_users_first_add_waits_for_the_model_load(tmp_path):
    """Library use (a notebook, an agent host): Ctrl-C while the first add imported torch raised
    KeyboardInterrupt inside torch's import, which left it half imported (every later add failed:
    "partially initialized module 'torch' has no attribute 'cuda'") or crashed the process (a SIGSEGV
    report from the JVM). The interrupt now waits for the load to end: KeyboardInterrupt comes after
    it, Python's handler is back, and the next add works."""
    process = subprocess.run([sys.executable, "-c", CTRL_C_IN_TORCH_IMPORT, str(tmp_path)], cwd=tmp_path,
                             env=environment(tmp_path), capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stderr[-3000:]
    assert process.stdout.splitlines() == ["first add: KeyboardInterrupt from stops_deferred",
                                           "torch loaded: True handler back: True", "second add: 1"], process.stderr[-3000:]
    assert_no_crash(tmp_path, process.stdout + process.stderr)


def test_a_stop_a_library_turned_into_its_own_error_still_exits_as_a_stop(tmp_path):
    """A SIGTERM landing while pydantic-core built a schema (the MCP models, at `graphmem serve`'s
    start) came out as a SchemaError whose message alone named the stop: no Interrupted in its chain,
    so the CLI printed a traceback and exited 1 instead of "interrupted" and 143."""
    script = (
        "import os, signal, sys, time\n"
        "import graphmem.cli as cli\n"
        "def app():\n"
        "    try:\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "        time.sleep(5)\n"
        "    except BaseException as exc:\n"
        "        text = repr(exc)\n"
        "    raise RuntimeError('Error building serializer: ' + text)  # raised anew, outside the handler: no chain\n"
        "cli.app = app\n"
        "cli.main()\n")
    process = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=environment(tmp_path), capture_output=True,
                             text=True, timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, process.stderr[-2000:]
    assert process.stderr.strip().splitlines()[-1] == "interrupted" and "Traceback" not in process.stderr, process.stderr


@pytest.mark.slow
def test_mcp_stdio_stops_on_sigterm(tmp_path):
    store = tmp_path / "store"
    process = subprocess.Popen([sys.executable, "-m", "graphmem.cli", "mcp", "--store", str(store)], cwd=tmp_path,
                               env=environment(tmp_path), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # serving once it answers the handshake (a stop while it starts, before it serves, exits 143)
    process.stdin.write(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}}) + "\n")
    process.stdin.flush()
    answer = json.loads(process.stdout.readline() or "null")
    assert answer and answer.get("id") == 1 and "result" in answer, answer
    # the client still holds stdin open (a thread of the server is blocked reading it): the stop
    # must not wait for the stream to close
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("graphmem mcp did not exit on SIGTERM while its stdin stayed open")
    stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr  # a graceful stop, as graphmem serve's (no call was in flight)
    assert stdout == ""  # the MCP channel carries nothing but protocol messages
    assert stderr.strip() == "interrupted"
    assert_no_crash(tmp_path, stdout + stderr)
    with Memory.open(store, "default", settings=settings_for(tmp_path)) as memory:  # the lock was released
        assert memory.check().ok


def _child_running(*command: str) -> "psutil.Process":
    """The descendant process of this one whose command line starts with ``command`` (the MCP SDK's
    stdio client starts the server itself and does not say its pid)."""
    import psutil

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for child in psutil.Process().children(recursive=True):
            try:
                if tuple(child.cmdline()[:len(command)]) == command:
                    return child
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.05)
    pytest.fail(f"no child process running {command!r}")


@pytest.mark.slow
def test_mcp_stdio_answers_the_call_in_flight_on_sigterm_refuses_new_ones_and_exits_0(tmp_path, embedder):
    """SIGTERM while `graphmem mcp` ran a tool call: the call's work committed, but its answer was
    never written (the stop ended the event loop), so the client waited in vain and an agent would
    send the add again. Now the call in flight is answered, a call that comes after the stop is
    refused with an error naming the stop (it is not run), and the process exits 0, as `graphmem serve`
    does; the client's own shutdown (stdin closed) follows."""
    import anyio
    from mcp import Client as MCPClient, MCPError, StdioServerParameters
    from mcp.client.stdio import stdio_client

    store = tmp_path / "store"
    env = {**environment(tmp_path), "GRAPHMEM_INDEX_DIR": str(tmp_path / "index")}
    status = tmp_path / "exit-status"  # the SDK's client reaps the server and keeps its exit status: a shell tells it
    params = StdioServerParameters(command="sh", args=["-c", f'"$@"; echo $? > {status}', "sh", sys.executable, "-m", "graphmem.cli",
                                                       "mcp", "--store", str(store), "--namespace", "sig"], env=env, cwd=str(tmp_path))
    messages = [{"speaker": PEOPLE[i % 2], "text": f"On day {i} we walked to {PLACES[i % len(PLACES)]} and talked for hours.",
                 "id": f"m{i}"} for i in range(1000)]  # the most one add takes: seconds of work
    outcome: dict = {}
    log = (tmp_path / "mcp.log").open("w+")

    async def main() -> None:
        async with MCPClient(stdio_client(params, errlog=log), read_timeout_seconds=240) as client:
            server = await anyio.to_thread.run_sync(_child_running, sys.executable, "-m", "graphmem.cli", "mcp")
            await client.list_tools()

            async def add() -> None:
                try:
                    result = await client.call_tool("add_memory", {"conversation": "c", "messages": messages})
                except MCPError as exc:  # (before: "Connection closed", the answer never written)
                    outcome["add failed"] = str(exc)
                    return
                outcome["added"] = json.loads("\n".join(b.text for b in result.content))["added"]

            async with anyio.create_task_group() as group:
                idle = sum(server.cpu_times()[:2])
                group.start_soon(add)
                # the add is under way once the server has worked a second on it (1,000 messages: several
                # seconds of work), however busy the machine (a fixed wait raced a loaded one)
                deadline = time.monotonic() + 120
                while sum(server.cpu_times()[:2]) - idle < 1.0 and time.monotonic() < deadline:
                    await anyio.sleep(0.05)
                server.send_signal(signal.SIGTERM)
                await anyio.sleep(1.0)
                try:
                    await client.call_tool("memory_stats", {})
                    outcome["after the stop"] = "answered"
                except MCPError as exc:
                    outcome["after the stop"] = str(exc)
            # answered; the server ends by itself, with stdin still open
            await anyio.to_thread.run_sync(lambda: server.wait(timeout=120))
            deadline = time.monotonic() + 10
            while not status.exists() and time.monotonic() < deadline:
                await anyio.sleep(0.05)
            outcome["exit"] = int(status.read_text())

    anyio.run(main)
    log.seek(0)
    output = log.read()
    print(outcome)  # shown with -rP
    assert outcome.get("added") == 1000, (outcome, output[-3000:])
    assert "stopping" in outcome.get("after the stop", ""), (outcome, output[-3000:])
    assert outcome.get("exit") == 0, (outcome, output[-3000:])
    assert_no_crash(tmp_path, output)
    assert output.strip().splitlines()[-1] == "interrupted", output
    with Memory.open(store, "sig", settings=settings_for(tmp_path)) as memory:
        assert memory.stats()["nodes"]["Turn"] == 1000
        assert memory.check().ok


def _mcp_line(process: subprocess.Popen, message: dict) -> None:
    process.stdin.write(json.dumps(message) + "\n")
    process.stdin.flush()


@pytest.mark.slow
def test_mcp_stdio_answers_the_call_in_flight_when_its_stdin_closes(tmp_path):
    """A client's shutdown closes the server's stdin: the call in flight was run and committed, but its
    answer never written (the SDK's transport ended the server at the end of the stream). It is
    written now, then the process exits 0 with nothing on stderr (no signal came), waiting for no
    request the SDK could not read."""
    store = tmp_path / "store"
    env = {**environment(tmp_path), "GRAPHMEM_INDEX_DIR": str(tmp_path / "index")}
    process = subprocess.Popen([sys.executable, "-m", "graphmem.cli", "mcp", "--store", str(store), "--namespace", "eof"],
                               cwd=tmp_path, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _mcp_line(process, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}})
        assert '"id":1' in process.stdout.readline()
        _mcp_line(process, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        # a request the SDK cannot read, which it never answers: the stop waited 30 s for it, then warned
        _mcp_line(process, {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": "oops"})
        messages = [{"speaker": PEOPLE[i % 2], "text": f"On day {i} we walked to {PLACES[i % len(PLACES)]}.", "id": f"m{i}"}
                    for i in range(300)]
        _mcp_line(process, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "add_memory", "arguments": {"conversation": "c", "messages": messages}}})
        time.sleep(0.5)  # the call is read and under way
        process.stdin.close()
        process.stdin = None  # (communicate then reads only)
        stdout, stderr = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    answers = [json.loads(line) for line in stdout.splitlines()]
    assert [a.get("id") for a in answers] == [2], (answers, stderr[-3000:])
    assert json.loads(answers[0]["result"]["content"][0]["text"])["added"] == 300, answers
    assert process.returncode == 0, stderr[-3000:]
    assert stderr.strip() == "", stderr[-3000:]
    with Memory.open(store, "eof", settings=settings_for(tmp_path)) as memory:
        assert memory.stats()["nodes"]["Turn"] == 300
        assert memory.check().ok
