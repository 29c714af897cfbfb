"""Test-only driver for tests/test_reliability.py: ingest a file in this process and, on
request, SIGKILL this process at a chosen point. Not imported by the library.

    python crash_driver.py STORE SOURCE NAMESPACE MODE

MODE:
    run            ingest normally (the test kills the process from outside, on a timer)
    statement:K    die right after the K-th Cypher statement of the ingest has run, inside
                   its open transaction
    after-commit:N die right after the N-th conversation's transaction committed, before
                   the derived caches (ANN indexes) are updated

The process prints READY (flushed) once the store is open and the models are loaded,
then DONE when the ingest finished.
"""

from __future__ import annotations

import os
import signal
import sys


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    store, source, namespace, mode = sys.argv[1:5]
    from graphmem import Memory, Settings
    from graphmem.ingest.clustering import ClusteringStage
    from graphmem.ingest.events import language_pipeline

    settings = Settings(jvm_heap="512m")
    memory = Memory.open(store, namespace, settings=settings)
    memory._embedder.encode(["warm up"])  # load the model before READY: kills then land in the ingest
    language_pipeline(settings.spacy_model)
    kind, _, number = mode.partition(":")
    if kind == "statement":
        database = type(memory.store._db)
        original = database.command
        seen = [0]

        def command(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            seen[0] += 1
            if seen[0] >= int(number):
                die()
            return result

        database.command = command
    elif kind == "after-commit":
        # ClusteringStage.commit runs right after a conversation's transaction committed,
        # before on_committed updates the ANN indexes
        commits = [0]

        def commit(self) -> None:
            commits[0] += 1
            if commits[0] >= int(number):
                die()

        ClusteringStage.commit = commit
    elif kind != "run":
        raise SystemExit(f"unknown mode {mode!r}")
    print("READY", flush=True)
    memory.ingest(source)
    print("DONE", flush=True)
    memory.close()


if __name__ == "__main__":
    main()
