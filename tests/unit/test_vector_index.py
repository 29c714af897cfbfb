"""graphmem.index.VectorIndex: removing ids (hnswlib marks them deleted) and what is saved."""

from __future__ import annotations

import json

import numpy as np

from graphmem.index import VectorIndex


def _vectors(n: int, dimension: int = 8) -> np.ndarray:
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(n, dimension)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_removed_ids_are_never_returned_and_stay_removed_after_saving(tmp_path):
    vectors = _vectors(6)
    ids = [f"event:{i}" for i in range(6)]
    index = VectorIndex(tmp_path, "event", 8)
    index.add(ids, vectors)
    assert index.remove(["event:1", "event:4", "event:unknown"]) == 2
    assert index.remove(["event:1"]) == 0  # already out
    assert len(index) == 4 and not index.contains("event:1") and index.contains("event:0")
    found = [node for node, _ in index.query(vectors[1], k=10)]  # k above what is left: all that is left
    assert sorted(found) == ["event:0", "event:2", "event:3", "event:5"]
    ids_found, _ = index.query_arrays(vectors[:2], k=10)
    assert ids_found.shape == (2, 4) and "event:4" not in set(ids_found.ravel())
    index.add(["event:6"], _vectors(7)[6:])  # a new id after removals gets its own position
    index.save()
    assert json.loads((tmp_path / "event.json").read_text())["ids"] == [
        "event:0", None, "event:2", "event:3", None, "event:5", "event:6"]

    again = VectorIndex(tmp_path, "event", 8)
    assert again.load_or_rebuild(5, "", lambda: (_ for _ in ()).throw(AssertionError("rebuilt"))) == "loaded"
    assert len(again) == 5 and not again.contains("event:4")
    assert sorted(node for node, _ in again.query(vectors[4], k=10)) == ["event:0", "event:2", "event:3", "event:5", "event:6"]
    np.testing.assert_allclose(again.vectors(["event:5"])[0], vectors[5], atol=1e-6)
    # the count the store gives is the live one: six stored units do not match five indexed
    stale = VectorIndex(tmp_path, "event", 8)
    assert stale.load_or_rebuild(6, "", lambda: (ids, vectors)) == "rebuilt"


def test_removing_every_id_leaves_an_empty_index(tmp_path):
    index = VectorIndex(tmp_path, "turn", 8)
    index.add(["turn:a", "turn:b"], _vectors(2))
    assert index.remove(["turn:a", "turn:b"]) == 2
    assert len(index) == 0 and index.query(_vectors(1)[0], k=3) == []
    index.save()
    again = VectorIndex(tmp_path, "turn", 8)
    assert again.load_or_rebuild(0, "", lambda: ([], np.zeros((0, 8), np.float32))) == "loaded" and len(again) == 0
