"""Reliability (issue 8): idempotent re-ingest on every backend, crash safety under SIGKILL,
concurrent threads and processes, and the embedded store's one-process rule."""

from __future__ import annotations

import copy
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
from conftest import Backend, memories, new_namespace, settings_for
from samples import GARDEN, write_native

from graphmem import Memory
from graphmem.ids import namespace_slug
from graphmem.errors import StoreUnavailableError
from graphmem.settings import Settings
from graphmem.store.embedded import _ProcessLock
from graphmem.ingest.clustering import ClusteringStage

TESTS = Path(__file__).resolve().parent
DRIVER = TESTS / "crash_driver.py"

HIKE = {
    "id": "hike-chat",
    "speakers": ["Maya", "Leo"],
    "sessions": [
        {"id": "1", "started_at": "2024-06-01T08:00:00", "turns": [
            {"id": "H1:1", "speaker": "Maya", "text": "We reached the summit of Ben Nevis before the fog rolled in."},
            {"id": "H1:2", "speaker": "Leo", "text": "Did the new boots give you blisters on the way down?"},
            {"id": "H1:3", "speaker": "Maya", "text": "No, but my knees hurt on the steep scree section."},
        ]},
        {"id": "2", "started_at": "2024-06-15T19:00:00", "turns": [
            {"id": "H2:1", "speaker": "Leo", "text": "I booked the ferry to Skye for the long weekend."},
            {"id": "H2:2", "speaker": "Maya", "text": "Pack midge spray, the Cuillin ridge is swarming in June."},
        ]},
    ],
}

THREE_SESSIONS = copy.deepcopy(GARDEN)
THREE_SESSIONS["sessions"].append({"id": "3", "started_at": "2024-05-11T12:00:00", "turns": [
    {"id": "G3:1", "speaker": "Alice", "text": "Clara loved the market in Lyon and bought lavender soap."},
    {"id": "G3:2", "speaker": "Ben", "text": "I am learning the Sarabande next, it is slower than the Chaconne."},
]})


def graph_counts(memory: Memory) -> dict[str, int]:
    """Nodes per label and relationships per type of the namespace (``rel:`` prefix)."""
    stats = memory.stats()
    return {**stats["nodes"], **{f"rel:{k}": v for k, v in stats["relationships"].items()}}


def duplicates(memory: Memory) -> dict[str, int]:
    """Per label, how many nodes share an id with another (0 everywhere when sound), and
    relationships that exist twice between the same nodes."""
    rows = memory.cypher("MATCH (n) WHERE n.namespace = $namespace "
                         "RETURN labels(n)[0] AS label, count(n) AS n, count(DISTINCT n.id) AS ids")
    out = {r["label"]: int(r["n"]) - int(r["ids"]) for r in rows}
    edges = memory.cypher("MATCH (a)-[r]->(b) WHERE a.namespace = $namespace "
                          "WITH a.id AS a, type(r) AS t, b.id AS b, count(*) AS copies WHERE copies > 1 "
                          "RETURN count(*) AS n")
    out["relationships"] = int(edges[0]["n"]) if edges else 0
    return out


def no_duplicates(memory: Memory) -> bool:
    return not any(duplicates(memory).values())


# ---------------------------------------------------------------------------- idempotence
def test_reingest_whole_and_overlapping_parts_adds_nothing(memory_factory, tmp_path):
    """Idempotence on every backend: the whole input again, or any part of it, changes no count."""
    memory = memory_factory()
    full = write_native(tmp_path, THREE_SESSIONS, "full.json")
    memory.ingest(full)
    before = graph_counts(memory)
    assert before["Turn"] == 12 and before["Session"] == 3

    assert memory.ingest(full).turns_added == 0
    middle = dict(THREE_SESSIONS, sessions=THREE_SESSIONS["sessions"][1:3])  # sessions 2-3 only
    first = dict(THREE_SESSIONS, sessions=[dict(THREE_SESSIONS["sessions"][0], turns=THREE_SESSIONS["sessions"][0]["turns"][:4])])
    for part in (write_native(tmp_path, middle, "middle.json"), write_native(tmp_path, first, "first.json")):
        report = memory.ingest(part)
        assert report.turns_added == 0 and report.units_embedded == {}
        assert graph_counts(memory) == before
    assert no_duplicates(memory)
    assert memory.check().ok


def _turn_chain(memory: Memory) -> list[str]:
    """The conversation's texts along its NEXT chain, from the turn nothing points to."""
    edges = {r["a"]: r["b"] for r in memory.cypher("MATCH (a:Turn)-[:NEXT]->(b:Turn) WHERE a.namespace = $namespace "
                                                 "RETURN a.id AS a, b.id AS b")}
    texts = {r["id"]: r["text"] for r in memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.id AS id, t.text AS text")}
    node, chain = (set(texts) - set(edges.values())).pop(), []
    while node is not None:
        chain.append(texts[node])
        node = edges.get(node)
    return chain


def test_a_file_holding_part_of_a_stored_conversation_keeps_its_order(memory_factory, tmp_path):
    """A loader numbers sessions by their place in the file. A file holding session 2 alone (its
    messages without ids, one changed and one appended) gave session 2 the number of session 1:
    the appended message clashed with a stored position, or forked the chain. A new session in such
    a file, after a stored one was forgotten, took a stored session's number (the database refused
    the ingest). The store's numbers are kept, new sessions come after the stored ones, and the
    appended message goes between session 2's last and session 3's first."""
    def sessions(*pairs):
        return {"id": "order", "speakers": ["Ann", "Bo"], "sessions": [
            # a session's date by its key: the same session says the same time in every file (messages known by
            # position only that a file gives at another time are other messages, refused as insertions)
            {"id": key, "started_at": f"2024-0{key}-01T10:00:00", "turns": [{"speaker": "Ann", "text": text} for text in texts]}
            for key, texts in pairs]}
    memory = memory_factory()
    memory.ingest(write_native(tmp_path, sessions(("1", ["one a"]), ("2", ["two a", "two b"]), ("3", ["three a"])), "all.json"))
    report = memory.ingest(write_native(tmp_path, sessions(("2", ["two a", "two B", "two c"])), "part.json"))
    assert (report.turns_added, report.turns_corrected) == (1, 1)
    assert _turn_chain(memory) == ["one a", "two a", "two B", "two c", "three a"]
    assert memory.check().ok
    memory.forget(conversation="order", session="2")
    report = memory.ingest(write_native(tmp_path, sessions(("9", ["nine a", "nine b"])), "new.json"))
    assert report.turns_added == 2
    numbers = {r["key"]: r["number"] for r in memory.cypher(
        "MATCH (s:Session) WHERE s.namespace = $namespace RETURN s.key AS key, s.number AS number")}
    assert numbers == {"1": 1, "3": 3, "9": 4}
    assert _turn_chain(memory) == ["one a", "three a", "nine a", "nine b"]
    assert memory.check().ok and no_duplicates(memory)


# ---------------------------------------------------------------------------- crash safety
@pytest.fixture(scope="module")
def crash_input(tmp_path_factory):
    """Two conversations (two transactions, then one placing their units in topics), the
    statements run before each commit, and the counts of an uninterrupted ingest."""
    directory = tmp_path_factory.mktemp("crash")
    source = directory / "two.json"
    source.write_text(json.dumps([GARDEN, HIKE], ensure_ascii=False), encoding="utf-8")
    settings = settings_for(directory)
    statements: list[int] = [0]
    per_conversation: list[int] = []
    original_commit = ClusteringStage.commit
    with Memory.open(directory / "reference", "crash", settings=settings) as memory:
        # count the write statements of each conversation's transaction (the driver's kill points)
        cls = type(memory.store._db)
        original_command = cls.command

        def command(self, *args, **kwargs):
            statements[0] += 1
            return original_command(self, *args, **kwargs)

        def commit(self):
            per_conversation.append(statements[0])
            return original_commit(self)

        cls.command, ClusteringStage.commit = command, commit
        try:
            memory.ingest(source)
        finally:
            cls.command, ClusteringStage.commit = original_command, original_commit
        reference = graph_counts(memory)
        assert memory.check().ok
    assert len(per_conversation) == 3  # GARDEN, HIKE, topics
    return source, reference, per_conversation


def run_driver(store: Path, source: Path, mode: str, kill_after: float | None = None) -> int:
    """Run the crash driver; with ``kill_after``, SIGKILL it that many seconds after READY."""
    process = subprocess.Popen([sys.executable, str(DRIVER), str(store), str(source), "crash", mode],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=store.parent)
    try:
        assert process.stdout.readline().strip() == "READY"
        if kill_after is not None:
            time.sleep(kill_after)
            process.send_signal(signal.SIGKILL)
        return process.wait(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def assert_recovers(store: Path, source: Path, reference: dict[str, int], settings: Settings) -> None:
    """Reopen a killed store: it opens, passes check, answers, and re-ingesting completes it exactly."""
    with Memory.open(store, "crash", settings=settings) as memory:
        report = memory.check()
        assert report.ok, report.to_dict()
        assert no_duplicates(memory)
        hits = memory.search("Where did Maya hike?", k=3)
        assert all(h.node_id.startswith("turn:") for h in hits)
        turns_before = memory.stats()["nodes"].get("Turn", 0)
        assert turns_before in (0, 10, 15)  # whole conversations only: 0, GARDEN, or both
        memory.ingest(source)
        assert graph_counts(memory) == reference
        after = memory.check()
        assert after.ok and not after.unplaced
        assert memory.search("Which island did Leo book a ferry to?", k=1)[0].source_id == "H2:1"


@pytest.mark.slow
@pytest.mark.parametrize("where", ["inside the 2nd transaction", "after the 1st commit", "before the topics commit",
                                   "inside the topics transaction", "on a timer"])
def test_sigkill_then_reopen_check_search_and_complete(crash_input, tmp_path, where):
    """SIGKILL an ingest of two conversations (two transactions, then the topics one): inside
    the second (after half its statements ran), right after the first commit (before the
    caches were updated), after both conversations committed but before their topics were,
    inside the topics transaction, and from outside at a random moment. The store reopens,
    passes check, answers, and re-ingesting the same input ends in exactly the counts of an
    uninterrupted run (units an interrupted ingest left without topics are placed then)."""
    source, reference, per_conversation = crash_input
    store = tmp_path / "store"
    if where == "on a timer":
        code = run_driver(store, source, "run", kill_after=random.uniform(0.2, 2.5))
        assert code in (-signal.SIGKILL, 0)
    else:
        first, second, topics = per_conversation
        mode = {"inside the 2nd transaction": f"statement:{first + (second - first) // 2}",
                "after the 1st commit": "after-commit:1",
                "before the topics commit": "after-commit:2",
                "inside the topics transaction": f"statement:{second + max(1, (topics - second) // 2)}"}[where]
        assert run_driver(store, source, mode) == -signal.SIGKILL
        with Memory.open(store, "crash", settings=settings_for(tmp_path)) as memory:
            stats = memory.stats()
            if where in ("inside the 2nd transaction", "after the 1st commit"):
                assert stats["nodes"].get("Turn") == 10  # the first conversation, whole; nothing of the second
            else:
                assert stats["nodes"].get("Turn") == 15 and not stats["nodes"].get("Topic")  # both; no topics yet
                report = memory.check()
                assert report.ok and report.unplaced.get("turn") == 15 and "in no topic yet" in report.summary()
    assert_recovers(store, source, reference, settings_for(tmp_path))


def test_reopen_after_commit_without_caches_rebuilds_them(crash_input, tmp_path):
    """What a kill between a commit and the cache updates leaves: stale or missing caches.
    Reopening rebuilds them from the store; check reports them rebuilt, search sees everything."""
    source, reference, _ = crash_input
    store = tmp_path / "store"
    settings = settings_for(tmp_path)
    with Memory.open(store, "crash", settings=settings) as memory:
        memory.ingest(source)
        cache = memory.store.cache_dir(namespace_slug("crash"))
    manifest = json.loads((cache / "turn.json").read_text())
    manifest["ids"] = manifest["ids"][:-1] + ["turn:dangling"]  # an entry with no node, same count
    (cache / "turn.json").write_text(json.dumps(manifest))
    with Memory.open(store, "crash", settings=settings) as memory:
        report = memory.check()
        assert report.ok and report.indexes["turn"].state == "inconsistent" and report.indexes["turn"].dangling == 1
        assert "turn" in report.rebuilt
        again = memory.check()
        assert again.ok and all(state.state == "ok" for state in again.indexes.values())
        assert memory.search("ferry to Skye", k=1)[0].source_id == "H2:1"


# ---------------------------------------------------------------------------- one process per embedded store
@pytest.mark.slow
def test_a_second_process_is_refused_with_the_owner_pid(tmp_path):
    store = tmp_path / "store"
    settings = settings_for(tmp_path)
    with Memory.open(store, "owner", settings=settings) as memory:
        memory.ingest(write_native(tmp_path, HIKE, "hike.json"))
        before = graph_counts(memory)
        env = dict(os.environ, GRAPHMEM_JVM_HEAP="256m")
        child = subprocess.run([sys.executable, "-m", "graphmem.cli", "stats", "--store", str(store), "-n", "owner"],
                               capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
        assert child.returncode == 1, child.stdout + child.stderr
        message = " ".join(child.stderr.split())
        assert f"in use by process {os.getpid()}" in message and str(store) in message
        # the refused process changed nothing
        assert graph_counts(memory) == before
        assert memory.check().ok
    assert (store / "graphmem.lock").read_text().strip() == str(os.getpid())
    # the owner saying what it does with the store (a server, its address) is named to the refused
    with Memory.open(store, "owner", settings=settings) as memory:
        memory.store.announce("graphmem serve at http://127.0.0.1:8765")
        with pytest.raises(StoreUnavailableError) as refused:
            _ProcessLock(store).acquire()  # another open file description: refused as another process is
        assert f"in use by process {os.getpid()}, graphmem serve at http://127.0.0.1:8765:" in str(refused.value)
        assert "Client" in str(refused.value) and "Bolt" not in str(refused.value)
    # once closed, the lock is free: this process opens it again (another would too)
    with Memory.open(store, "owner", settings=settings) as memory:
        assert graph_counts(memory) == before


def _forked(opening: str, in_child: str, after: str) -> str:
    """A script that opens ``memory`` (``opening``), adds, forks, and prints what the child's
    add and search gave (then whatever ``in_child`` appends to ``outcome``), then runs ``after``."""
    return f"""
import os, sys
from graphmem import Memory, Settings
from graphmem.errors import StoreUnavailableError
{opening}
memory.add({{"role": "user", "content": "Written before the fork."}}, conversation="c")
read, write = os.pipe()
child = os.fork()
if child == 0:  # the child inherited the open memory: every use is refused, and closing it is harmless
    os.close(read)
    outcome, messages = [], []
    for call in (lambda: memory.add({{"role": "user", "content": "Written by the child."}}, conversation="c"),
                 lambda: memory.search("fork", k=1)):
        try:
            call()
            outcome.append("worked")
        except StoreUnavailableError as exc:
            outcome.append("refused" if "is a fork" in str(exc) else "other: " + str(exc))
            messages.append(str(exc))
    memory.close()
{in_child}
    os.write(write, " ".join(outcome).encode())
    os._exit(0)
os.close(write)
os.waitpid(child, 0)
print(os.read(read, 1000).decode())
memory.add({{"role": "user", "content": "Written by the parent after the fork."}}, conversation="c")
{after}
"""


FORKED = _forked(
    opening="""
settings = Settings(index_dir=sys.argv[1] + "/index", jvm_heap="512m")
memory = Memory.open(sys.argv[1] + "/store", "forked", settings=settings)""",
    in_child="""
    try:  # a fresh open in the child is another process's open: refused while the parent holds the store
        Memory.open(sys.argv[1] + "/store", "forked", settings=settings).close()
        outcome.append("opened")
    except StoreUnavailableError as exc:
        outcome.append("in-use" if f"in use by process {os.getppid()}" in str(exc) else "other: " + str(exc))""",
    after="""
memory.close()
with Memory.open(sys.argv[1] + "/store", "forked", settings=settings) as again:
    texts = [r["text"] for r in again.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.text AS text ORDER BY t.seq")]
    print(texts, again.check().ok)""")


def test_a_forked_child_is_refused_the_store_it_inherited(tmp_path):
    """A fork's child (multiprocessing's default start on Linux) that used the embedded store
    its parent had open reported its add as stored, and the message was lost. Every use is
    now refused with the reason, and the parent's memory is untouched."""
    run = subprocess.run([sys.executable, "-c", FORKED, str(tmp_path)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.strip().splitlines()
    assert lines[0] == "refused refused in-use"
    assert lines[1] == "['Written before the fork.', 'Written by the parent after the fork.'] True"


FORKED_BOLT = _forked(
    opening="""
uri, user, password, database, namespace, index_dir = sys.argv[1:7]
memory = Memory.open(uri, namespace, settings=Settings(index_dir=index_dir, jvm_heap="512m"), auth=(user, password),
                     database=database)""",
    in_child="""
    outcome.append("advice" if all("Memory.open" in m for m in messages) else "no advice")""",
    after="""
texts = [r["text"] for r in memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.text AS text ORDER BY t.seq")]
print(texts, sorted(hit.text for hit in memory.search("fork", k=5)), memory.check().ok)
memory.forget(conversation="c")
memory.close()""")


@pytest.mark.bolt
def test_a_forked_child_is_refused_the_bolt_connections_it_inherited(bolt_server, tmp_path):
    """Over Bolt the child's writes would reach the server, but through the parent's sockets.
    Every use in the child is refused, and its close leaves the parent's connections working."""
    run = subprocess.run([sys.executable, "-c", FORKED_BOLT, bolt_server.uri, *bolt_server.auth, bolt_server.database,
                          new_namespace("forked"), str(tmp_path / "index")], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.strip().splitlines()
    assert lines[0] == "refused refused advice"
    both = "['Written before the fork.', 'Written by the parent after the fork.']"
    assert lines[1] == f"{both} {both} True"


FORK_HOLDER = """
import multiprocessing, sys, time
from graphmem import Memory, Settings
from graphmem.errors import StoreUnavailableError
settings = Settings(index_dir=sys.argv[1] + "/index", jvm_heap="256m")
store = sys.argv[1] + "/store"
fork = multiprocessing.get_context("fork")
memory = Memory.open(store, "host", settings=settings)
first = fork.Process(target=time.sleep, args=(600,), daemon=True)  # a worker that never touches the memory
first.start()
print(first.pid, flush=True)
memory.close()
try:
    Memory.open(store, "host", settings=settings).close()
    print("reopened", flush=True)
except StoreUnavailableError as exc:
    print("refused:", exc, flush=True)
memory = Memory.open(store, "host", settings=settings)  # held again, with a worker forked while it is
second = fork.Process(target=time.sleep, args=(600,), daemon=True)
second.start()
print(second.pid, flush=True)
time.sleep(600)
"""


def test_a_forked_worker_does_not_keep_the_store_locked(tmp_path):
    """A multiprocessing worker forked while the embedded store was open shared its lock's open
    file: after the host closed its memory, the host could not open its own store again ("in use by
    process <its own pid>"), and after the host was SIGKILLed no process could open it while the
    worker lived. A fork's child now closes its copy of the lock (the parent keeps the lock)."""
    host = subprocess.Popen([sys.executable, "-c", FORK_HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    workers: list[int] = []
    try:
        workers.append(int(host.stdout.readline()))
        assert host.stdout.readline().strip() == "reopened"
        workers.append(int(host.stdout.readline()))
        assert all(os.path.exists(f"/proc/{pid}") for pid in workers)
        os.kill(host.pid, signal.SIGKILL)
        host.wait(timeout=60)
        assert all(os.path.exists(f"/proc/{pid}") for pid in workers)  # the orphaned workers live on
        with Memory.open(tmp_path / "store", "host", settings=settings_for(tmp_path)) as memory:
            assert memory.stats()["nodes"] == {}
    finally:
        if host.poll() is None:
            host.kill()
            host.wait()
        for pid in workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


FORK_WHILE_RELEASING = """
import os, sys, threading, time, subprocess
from pathlib import Path
import graphmem.store.embedded as emb

lock = emb._ProcessLock(Path(sys.argv[1]))
lock.acquire()
target = lock._fd
releasing, forked = threading.Event(), threading.Event()
real_close = os.close

def close(fd):  # the release is between taking the lock out of the set and closing it
    if fd == target and threading.current_thread().name == "closer":
        releasing.set()
        forked.wait(1)
    return real_close(fd)

os.close = close
closer = threading.Thread(target=lock.release, name="closer")
closer.start()
releasing.wait(5)
pid = os.fork()  # a worker started by another thread now
if pid == 0:
    time.sleep(5)
    os._exit(0)
forked.set()
closer.join()
os.close = real_close
probe = "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR); fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); print('free')"
done = subprocess.run([sys.executable, "-c", probe, str(Path(sys.argv[1]) / emb.LOCK_FILE)], capture_output=True, text=True)
print(done.stdout.strip() or "locked")
os.kill(pid, 9)
os.waitpid(pid, 0)
"""


def test_a_worker_forked_while_the_store_closes_does_not_keep_it_locked(tmp_path):
    """The lock's descriptor was closed after the guard the fork hook takes was let go: a worker forked
    by another thread in between kept a copy of it the hook did not know, and the closed store stayed
    locked while that worker lived. (The gap is widened by a close that waits for the fork.)"""
    done = subprocess.run([sys.executable, "-c", FORK_WHILE_RELEASING, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "free", (done.stdout, done.stderr)


def test_second_open_in_the_same_process_shares_the_store(tmp_path):
    settings = settings_for(tmp_path)
    with Memory.open(tmp_path / "store", "a", settings=settings) as a, Memory.open(tmp_path / "store", "b", settings=settings) as b:
        a.ingest(write_native(tmp_path, HIKE, "hike.json"))
        assert b.stats()["nodes"] == {}
        assert a.stats()["nodes"]["Turn"] == 5


# ---------------------------------------------------------------------------- threads (embedded)
def _run_threads(targets) -> list[BaseException]:
    errors: list[BaseException] = []

    def guard(target):
        def run():
            try:
                target()
            except BaseException as exc:  # collected and re-raised by the test
                errors.append(exc)
        return run

    threads = [threading.Thread(target=guard(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    return errors


@pytest.mark.slow
def test_threads_ingest_and_search_one_namespace_with_separate_memories(tmp_path):
    """Three Memory objects on one namespace ingest the same and different inputs at once while
    others search: no error, no duplicate, exactly the turns of the inputs, and a clean check."""
    settings = settings_for(tmp_path)
    store = tmp_path / "store"
    garden, hike = write_native(tmp_path, GARDEN, "garden.json"), write_native(tmp_path, HIKE, "hike.json")
    opened = [Memory.open(store, "shared", settings=settings) for _ in range(4)]
    found: list[list] = []
    try:
        def searcher(memory):
            def run():
                for _ in range(6):
                    found.append(memory.search("summit of Ben Nevis in the fog", k=3))
            return run

        errors = _run_threads([lambda: opened[0].ingest(garden), lambda: opened[1].ingest(garden),
                               lambda: opened[2].ingest(hike), searcher(opened[3])])
        assert not errors, errors
        memory = opened[0]
        assert memory.stats()["nodes"]["Turn"] == 15 and memory.stats()["nodes"]["Conversation"] == 2
        assert no_duplicates(memory)
        assert memory.check().ok
        for hits in found:  # a hit is a whole, committed turn
            assert all(h.text and h.conversation_id in ("garden-chat", "hike-chat") for h in hits)
    finally:
        for memory in opened:
            memory.close()


@pytest.mark.slow
def test_threads_in_different_namespaces_get_identical_graphs(tmp_path):
    settings = settings_for(tmp_path)
    source = write_native(tmp_path, HIKE, "hike.json")
    namespaces = [new_namespace("thread") for _ in range(3)]
    opened = [Memory.open(tmp_path / "store", ns, settings=settings) for ns in namespaces]
    try:
        errors = _run_threads([lambda m=m: (m.ingest(source), m.search("ferry to Skye", k=2)) for m in opened])
        assert not errors, errors
        counts = [graph_counts(m) for m in opened]
        assert counts[0]["Turn"] == 5 and counts[0] == counts[1] == counts[2]
        assert all(no_duplicates(m) and m.check().ok for m in opened)
    finally:
        for memory in opened:
            memory.close()


def test_store_readers_see_each_commit_whole(tmp_path):
    """Commits land all at once for readers of the embedded store, and one query reads one state.

    ArcadeDB alone fails this: without graphmem's visibility lock a reader counting Turns
    and Events in one statement saw 16 mixed states in 421 reads (a commit landing while
    the query ran). Each commit here writes 300 turns and 300 events, so every read must
    see equal counts, a multiple of 300."""
    from graphmem.store.embedded import EmbeddedStore

    store = EmbeddedStore(tmp_path / "store").open()
    seen: list[tuple[int, int]] = []
    done = threading.Event()
    query = ("MATCH (t:Turn) WHERE t.namespace = $namespace WITH count(t) AS turns "
             "OPTIONAL MATCH (e:Event) WHERE e.namespace = $namespace RETURN turns, count(e) AS events")

    def read() -> None:
        while not done.is_set():
            row = store.run_cypher(query, {"namespace": "commits"})[0]
            seen.append((int(row["turns"]), int(row["events"])))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for batch in range(25):
            ids = [f"commit-{batch}-{i}" for i in range(300)]
            store.write([
                ("write/merge_turns", {"rows": [{"id": i, "session_id": "none", "props": {"namespace": "commits", "text": "x" * 200}} for i in ids]}),
                ("write/merge_events", {"rows": [{"id": f"{i}-e", "turn_id": i, "props": {"namespace": "commits", "text": "y" * 200}} for i in ids]}),
            ])
    finally:
        done.set()
        thread.join()
        store.close()
    mixed = [(turns, events) for turns, events in seen if turns != events or turns % 300]
    assert not mixed, f"{len(mixed)} of {len(seen)} reads saw part of a commit: {mixed[:5]}"
    assert len(seen) > 10


def test_readers_never_see_a_half_written_conversation(tmp_path):
    """A transaction per conversation: a concurrent reader sees none of it or all of it."""
    settings = settings_for(tmp_path)
    with Memory.open(tmp_path / "store", "atomic", settings=settings) as writer:
        reader = Memory.open(tmp_path / "store", "atomic", settings=settings)
        seen: set[tuple[int, int, int]] = set()
        done = threading.Event()

        def read():
            # one statement, so the three counts come from one snapshot
            query = ("MATCH (s:Session) WHERE s.namespace = $namespace WITH count(s) AS sessions "
                     "OPTIONAL MATCH (t:Turn) WHERE t.namespace = $namespace AND t.conversation_id = 'garden-chat' "
                     "OPTIONAL MATCH (e:Event)-[:FROM]->(t) "
                     "RETURN sessions, count(DISTINCT t) AS turns, count(e) AS events")
            while not done.is_set():
                rows = reader.cypher(query)
                row = rows[0] if rows else {"turns": 0, "events": 0, "sessions": 0}
                seen.add((int(row["turns"]), int(row["events"]), int(row["sessions"])))

        thread = threading.Thread(target=read)
        thread.start()
        try:
            writer.ingest(write_native(tmp_path, GARDEN, "garden.json"))
            time.sleep(0.2)
        finally:
            done.set()
            thread.join()
            reader.close()
        final = (10, writer.stats()["nodes"]["Event"], 2)
        assert seen <= {(0, 0, 0), final}, seen
        assert final in seen


# ---------------------------------------------------------------------------- processes (Bolt)
PROCESS_INGEST = """
import sys
from graphmem import Memory, Settings
uri, user, password, database, shared, own, source, index_dir = sys.argv[1:9]
settings = Settings(index_dir=index_dir)
for namespace in (shared, own):
    with Memory.open(uri, namespace, settings=settings, auth=(user, password), database=database) as memory:
        memory.ingest(source)
        hits = memory.search("summit of Ben Nevis", k=3)
        assert hits and all(h.text for h in hits)
print("OK", flush=True)
"""


@pytest.mark.slow
@pytest.mark.bolt
def test_processes_ingest_and_search_one_bolt_store(bolt_server, tmp_path):
    """Two processes write one Bolt store at once, the same input into one shared namespace and
    then into a namespace each: no error, no duplicate, every namespace complete and sound."""
    source = write_native(tmp_path, HIKE, "hike.json")
    shared = new_namespace("proc-shared")
    own = [new_namespace("proc-own"), new_namespace("proc-own")]
    user, password = bolt_server.auth
    processes = [subprocess.Popen([sys.executable, "-c", PROCESS_INGEST, bolt_server.uri, user, password,
                                   bolt_server.database, shared, own[i], str(source), str(tmp_path / f"index-{i}")],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
                 for i in range(2)]
    outputs = [p.communicate(timeout=600) for p in processes]
    for process, (out, err) in zip(processes, outputs):
        assert process.returncode == 0 and "OK" in out, err[-3000:]
    with memories(Backend("bolt", bolt_server.uri, bolt_server.auth, bolt_server.database), settings_for(tmp_path)) as factory:
        opened = [factory(ns) for ns in (shared, *own)]
        expected = opened[1].stats()["nodes"]
        assert (expected["Conversation"], expected["Session"], expected["Turn"]) == (1, 2, 5)
        for memory in opened:
            assert no_duplicates(memory)
            nodes = memory.stats()["nodes"]
            assert {k: nodes[k] for k in ("Conversation", "Session", "Turn", "Event", "Episode")} == \
                {k: expected[k] for k in ("Conversation", "Session", "Turn", "Event", "Episode")}
            report = memory.check()
            assert report.ok, report.to_dict()


def test_a_store_whose_lock_cannot_be_opened_is_a_storage_error_naming_it(tmp_path):
    """A store on a read-only mount (here: a lock path that cannot be opened for writing) ended in
    "unexpected OSError ... (a defect)" from the CLI and a raw OSError from Memory.open."""
    from graphmem.errors import StorageError
    from graphmem.store.embedded import LOCK_FILE

    settings = settings_for(tmp_path)
    with Memory.open(tmp_path / "store", "a", settings=settings) as memory:
        memory.add({"speaker": "Ann", "text": "I keep bees on the roof."}, conversation="c")
    lock = tmp_path / "store" / LOCK_FILE
    lock.unlink()
    lock.mkdir()  # what os.open(O_RDWR) cannot open, as a read-only file system's file
    with pytest.raises(StorageError, match=r"cannot open store .*needs to write where it lies"):
        Memory.open(tmp_path / "store", "a", settings=settings)


def test_a_drop_stopped_part_way_is_seen_by_every_memory_and_dropping_again_finishes_it(tmp_path, monkeypatch):
    """drop_namespace deletes in batches, one transaction each, and bumped nothing until the batch that
    deleted the change marker: after a drop stopped part way (a kill), another Memory (another process,
    over Bolt) ranked with caches of what the batches had deleted. Each batch now bumps the marker,
    which goes last; dropping again finishes the namespace."""
    import graphmem.memory as memory_module
    from graphmem.changes import read_version

    settings = settings_for(tmp_path)
    monkeypatch.setattr(memory_module, "DROP_BATCH", 4)
    with Memory.open(tmp_path / "s", "t", settings=settings) as dropping, \
            Memory.open(tmp_path / "s", "t", settings=settings) as other:
        dropping.ingest(write_native(tmp_path, HIKE, "hike.json"))
        assert other.search("summit", k=20)  # its caches hold every turn
        store, batches = dropping.store, []

        class Killed(Exception):
            pass

        turns = "MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.id AS id"
        version = read_version(store, "t")
        every_turn = {row["id"] for row in other.cypher(turns)}

        def stop_once_a_turn_is_gone(write):
            def wrapped(*args, **kwargs):
                rows = write(*args, **kwargs)
                batches.append(args[0])
                if {row["id"] for row in other.cypher(turns)} != every_turn:
                    raise Killed()  # the process dies after the batch committed
                return rows
            return wrapped

        monkeypatch.setattr(store, "write", stop_once_a_turn_is_gone(store.write))
        monkeypatch.setattr(store, "write_returning", stop_once_a_turn_is_gone(store.write_returning))
        with pytest.raises(Killed):
            dropping.drop_namespace()
        monkeypatch.undo()
        monkeypatch.setattr(memory_module, "DROP_BATCH", 4)
        stored = {row["id"] for row in other.cypher(turns)}
        assert batches and stored and stored != every_turn
        # every batch moved the change marker, which outlives them: other processes rebuild from what is left
        assert read_version(store, "t") > version
        hits = other.search("summit", k=20)
        assert {hit.node_id for hit in hits} <= stored, "another memory served turns the drop had deleted"
        assert not dropping.check().ok  # part of a namespace: damage check names
        dropping.drop_namespace()  # dropping again finishes it
        assert dropping.stats()["nodes"] == {} and other.search("summit", k=20) == []
