"""``bench query`` times what the change-marker read adds to every query, on the embedded
store and over a real Bolt server (figures only; no timing is asserted)."""

from __future__ import annotations

import pytest

from graphmem.bench.query import change_marker_cost
from graphmem.changes import read_version
from graphmem.settings import Settings
from graphmem.store import open_store

from conftest import new_namespace, settings_for


def _check(store, namespace):
    before = read_version(store, namespace)
    figures = change_marker_cost(store, namespace, reads=20)
    assert set(figures) == {"p50_ms", "p95_ms", "mean_ms", "max_ms"}
    assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"]
    assert read_version(store, namespace) == before + 1  # one bump, then reads only


def test_the_marker_read_is_timed_on_the_embedded_store(tmp_path):
    store = open_store(tmp_path / "store", settings_for(tmp_path))
    try:
        _check(store, "bench")
    finally:
        store.close()


@pytest.mark.bolt
def test_the_marker_read_is_timed_over_bolt(bolt_server, tmp_path):
    store = open_store(bolt_server.uri, Settings(index_dir=str(tmp_path / "index")), auth=bolt_server.auth,
                       database=bolt_server.database)
    namespace = new_namespace("marker")
    try:
        _check(store, namespace)
    finally:
        store.write_returning("forget/delete_namespace_batch", {"namespace": namespace, "limit": 100})
        store.close()
