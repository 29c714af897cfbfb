"""Batched write rows cross into the embedded store's JVM as one JSON text, with the vectors put
back as ``float[]`` (graphmem.store.embedded._rows_as_json)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import settings_for
from graphmem import Memory
from graphmem.store import embedded


def _vector(seed: int, size: int = 4) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(size).astype(np.float32)


def _expected(value):
    """What the engine should receive: vectors as their float32 values, tuples as lists."""
    if isinstance(value, np.ndarray):
        return [float(x) for x in value]
    if isinstance(value, dict):
        return {k: _expected(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_expected(v) for v in value]
    return value


def _as_python(java_rows):
    return json.loads(str(embedded._java("JSONArray")(java_rows).toString()))


def _same(got, want) -> bool:
    if isinstance(want, float):
        return isinstance(got, (int, float)) and math.isclose(float(np.float32(got)), float(np.float32(want)), rel_tol=0, abs_tol=0)
    if isinstance(want, dict):
        return isinstance(got, dict) and got.keys() == want.keys() and all(_same(got[k], want[k]) for k in want)
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(_same(g, w) for g, w in zip(got, want))
    return got == want


@pytest.fixture(scope="module")
def jvm(tmp_path_factory):
    directory = tmp_path_factory.mktemp("params")
    with Memory.open(directory / "store", "params", settings=settings_for(directory)):  # the JVM runs from here on
        yield


ROWS = {
    "flat": [{"id": "a", "n": 1, "x": 0.25, "ok": True, "none": None, "names": ["Mel", "Caro"], "pair": ("x", 2)}],
    "top-level vectors": [{"id": "a", "embedding": _vector(1)}, {"id": "b", "embedding": _vector(2), "k": 3}],
    "vectors in props": [{"id": "t", "props": {"text": "hello", "embedding": _vector(3), "seq": 7},
                          "session_id": "s"}],
    "nested deeper": [{"id": "e", "props": {"inner": {"embedding": _vector(4), "tags": ["a"]}},
                       "mixed": [1, {"k": _vector(5)}, [2, 3]], "vectors": [_vector(6), _vector(7)]}],
    "unicode": [{"id": "u", "text": "line\u2028separator \u0085 and \u00e9 \U0001F600 \"quoted\" \\ back"}],
}


@pytest.mark.parametrize("shape", list(ROWS))
def test_rows_cross_whole_with_their_vectors_where_they_were(jvm, shape):
    rows = ROWS[shape]
    before = json.dumps(_expected(rows))
    java_rows = embedded._rows_as_json(rows)
    assert java_rows is not None
    assert _same(_as_python(java_rows), _expected(rows)), shape
    assert json.dumps(_expected(rows)) == before  # the caller's rows are not changed


@pytest.mark.parametrize("value", [float("nan"), np.float32(0.5), np.int64(3)])
def test_rows_json_cannot_carry_take_the_per_value_path(jvm, value):
    rows = [{"id": "a", "props": {"score": value, "embedding": _vector(8)}}]
    assert embedded._rows_as_json(rows) is None
    params = embedded._java_params({"rows": rows})
    assert params["rows"][0]["props"]["embedding"] is not rows[0]["props"]["embedding"]  # converted to float[]
    assert len(params["rows"][0]["props"]["embedding"]) == 4


def test_the_jvm_started_for_a_store_leaves_pythons_collector_alone(tmp_path):
    """JPype hooks a callback into Python's garbage collector that calls Java's System.gc() (a
    full collection of the store's heap) whenever the process grew; the store's JVM starts
    without it (graphmem.store.embedded._unlink_jpype_collector). In a fresh process, since
    this one's JVM may already run."""
    import subprocess
    import sys

    script = (
        "import gc, sys, _jpype\n"
        "from graphmem.store.embedded import EmbeddedStore\n"
        "store = EmbeddedStore(sys.argv[1])\n"
        "store.open()\n"
        "import jpype\n"
        "print(jpype.isJVMStarted(), sum(c is _jpype._collect for c in gc.callbacks))\n"
        "store.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "store")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "0"]


def test_thread_done_detaches_a_thread_that_used_the_store_and_leaves_others_unattached(tmp_path, test_settings):
    """GraphStore.thread_done on the embedded store detaches the calling thread from the JVM when
    it is attached (it used the store), and does not attach one that never did (asking
    java.lang.Thread.isAttached() would attach it first); the main thread stays attached."""
    import threading

    import _jpype
    import jpype

    with Memory.open(tmp_path / "store", "threads", settings=test_settings) as memory:
        store = memory.store
        seen: dict[str, bool] = {}

        def used() -> None:
            store.read("read/change_marker", {"namespace": "threads", "id": ""})
            seen["used, before"] = _jpype.isThreadAttachedToJVM()
            store.thread_done()
            seen["used, after"] = _jpype.isThreadAttachedToJVM()

        def idle() -> None:
            store.thread_done()
            seen["idle, after"] = _jpype.isThreadAttachedToJVM()

        for target in (used, idle):
            worker = threading.Thread(target=target)
            worker.start()
            worker.join()
        store.thread_done()  # the main thread: stays attached
        assert jpype.java.lang.Thread.isAttached()
    assert seen == {"used, before": True, "used, after": False, "idle, after": False}
