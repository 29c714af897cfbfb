"""Process-wide changes graphmem makes only when asked (STYLE: a library is a guest in its
user's process): ``gc.freeze`` of the loaded models is opt-in (``Settings.freeze_gc``), on in the
``graphmem`` command. Each case runs in a fresh interpreter: the freeze is process-wide."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from graphmem.errors import ConfigurationError
from graphmem.settings import Settings

# An application object in a reference cycle, alive while the memory first adds and searches;
# prints whether the cycle was collected once the application let go of it.
CYCLE_SCRIPT = """
import gc, json, sys, weakref
from graphmem import Memory, Settings

class Session:
    def __init__(self):
        self.child = {"parent": self}

session = Session()
alive = weakref.ref(session)
settings = Settings(jvm_heap="512m", **({"freeze_gc": True} if sys.argv[2] == "on" else {}))  # (off: the default)
with Memory.open(sys.argv[1], namespace="ns", settings=settings) as memory:
    memory.add({"role": "user", "content": "I adopted a beagle called Pepper."}, conversation="c")
    hits = memory.search("dog")
del session
gc.collect()
print(json.dumps({"collected": alive() is None, "frozen": gc.get_freeze_count(), "hits": len(hits)}))
"""


def _run(tmp_path, *args: str, env: dict[str, str] | None = None) -> dict:
    done = subprocess.run([sys.executable, "-c", CYCLE_SCRIPT, str(tmp_path / "store"), *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_library_call_leaves_the_callers_cycles_to_the_collector(tmp_path):
    result = _run(tmp_path, "off")
    assert result["hits"] >= 1
    assert result["frozen"] == 0
    assert result["collected"], "a reference cycle alive at the first add was frozen out of the collector"


def test_freeze_gc_freezes_what_is_alive_once_the_models_load(tmp_path):
    result = _run(tmp_path, "on")
    assert result["hits"] >= 1
    assert result["frozen"] > 1000  # the models and modules loaded by then
    assert not result["collected"]  # the documented cost: cycles alive then are never collected


def test_the_command_freezes_its_own_process(tmp_path):
    script = ("import atexit, gc, sys\n"
              "atexit.register(lambda: sys.stderr.write(f'\\nfrozen {gc.get_freeze_count()}\\n'))\n"
              "from graphmem.cli import main\nmain()\n")
    store = str(tmp_path / "store")
    done = subprocess.run([sys.executable, "-c", script, "add", "--store", store, "--conversation", "c",
                           "I adopted a beagle called Pepper."], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "GRAPHMEM_JVM_HEAP": "512m"})
    assert done.returncode == 0, done.stderr[-3000:]
    frozen = int(done.stderr.strip().splitlines()[-1].split()[-1])
    assert frozen > 1000


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("on", True), ("false", False), ("", False)])
def test_freeze_gc_from_the_environment(value, expected):
    assert Settings.from_env({"GRAPHMEM_FREEZE_GC": value}).freeze_gc is expected


def test_a_bad_freeze_gc_is_refused_naming_the_variable():
    with pytest.raises(ConfigurationError, match="GRAPHMEM_FREEZE_GC"):
        Settings.from_env({"GRAPHMEM_FREEZE_GC": "maybe"})
    with pytest.raises(ConfigurationError, match="freeze_gc"):
        Settings(freeze_gc="yes")  # type: ignore[arg-type]
