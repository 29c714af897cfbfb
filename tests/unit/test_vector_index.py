"""graphmem.index.VectorIndex: removing ids (hnswlib marks them deleted) and what is saved."""

from __future__ import annotations

import json

import numpy as np
import pytest

from graphmem.index import COMPACT_FRACTION, VectorIndex


def _vectors(n: int, dimension: int = 8, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    matrix = rng.normal(size=(n, dimension)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def _never() -> tuple:
    raise AssertionError("rebuilt from the store")


def test_removed_ids_are_never_returned_and_stay_removed_after_saving(tmp_path):
    vectors = _vectors(10)
    ids = [f"event:{i}" for i in range(10)]
    index = VectorIndex(tmp_path, "event", 8)
    index.add(ids, vectors)
    assert index.remove(["event:4", "event:unknown"]) == 1
    assert index.remove(["event:4"]) == 0  # already out
    assert len(index) == 9 and not index.contains("event:4") and index.contains("event:0")
    found = [node for node, _ in index.query(vectors[4], k=20)]  # k above what is left: all that is left
    assert sorted(found) == sorted(set(ids) - {"event:4"})
    ids_found, _ = index.query_arrays(vectors[:2], k=20)
    assert ids_found.shape == (2, 9) and "event:4" not in set(ids_found.ravel())
    index.add(["event:10"], _vectors(1, seed=9))  # a new id after a removal gets its own position
    index.save()  # 1 of 11 positions removed: kept, marked
    saved = json.loads((tmp_path / "event.json").read_text())["ids"]
    assert saved == [*ids[:4], None, *ids[5:], "event:10"]

    again = VectorIndex(tmp_path, "event", 8)
    assert again.load_or_rebuild(10, "", _never) == "loaded"  # the store's count is the live one
    assert len(again) == 10 and not again.contains("event:4")
    assert "event:4" not in {node for node, _ in again.query(vectors[4], k=10)}
    np.testing.assert_allclose(again.vectors(["event:5"])[0], vectors[5], atol=1e-6)
    stale = VectorIndex(tmp_path, "event", 8)  # eleven stored units do not match ten indexed
    assert stale.load_or_rebuild(11, "", lambda: (ids, vectors)) == "rebuilt"


def test_an_index_holding_many_removed_units_is_compacted_on_save(tmp_path):
    vectors = _vectors(10)
    ids = [f"turn:{i}" for i in range(10)]
    index = VectorIndex(tmp_path, "turn", 8)
    index.add(ids, vectors)
    gone = ids[: int(COMPACT_FRACTION * 10) + 1]
    assert index.remove(gone) == len(gone)
    index.save()
    kept = [node for node in ids if node not in gone]
    assert json.loads((tmp_path / "turn.json").read_text())["ids"] == kept  # no null left
    again = VectorIndex(tmp_path, "turn", 8)
    assert again.load_or_rebuild(len(kept), "", _never) == "loaded"
    assert sorted(node for node, _ in again.query(vectors[0], k=20)) == sorted(kept)
    for node in kept:
        np.testing.assert_allclose(again.vectors([node])[0], vectors[ids.index(node)], atol=1e-6)


def test_removing_every_id_leaves_an_empty_index(tmp_path):
    index = VectorIndex(tmp_path, "turn", 8)
    index.add(["turn:a", "turn:b"], _vectors(2))
    assert index.remove(["turn:a", "turn:b"]) == 2
    assert len(index) == 0 and index.query(_vectors(1)[0], k=3) == []
    index.save()
    again = VectorIndex(tmp_path, "turn", 8)
    assert again.load_or_rebuild(0, "", lambda: ([], np.zeros((0, 8), np.float32))) == "loaded" and len(again) == 0


def test_a_removed_units_vector_is_overwritten_in_memory_and_in_the_saved_file(tmp_path):
    """hnswlib keeps a deleted element's data: remove overwrites it, so a forgotten unit's
    embedding is in neither the index nor a file it is saved to (and a re-added id is found)."""
    vectors = _vectors(20)
    ids = [f"turn:{i}" for i in range(20)]
    index = VectorIndex(tmp_path, "turn", 8)
    index.add(ids, vectors)
    held = {node: index.vectors([node])[0].tobytes() for node in ("turn:3", "turn:4")}  # as hnswlib stores them
    assert index.remove(["turn:3", "turn:3"]) == 1  # 1 of 20 removed: kept (marked), not compacted
    index.save()
    (saved,) = tmp_path.glob("turn.*.hnsw")
    data = saved.read_bytes()
    assert held["turn:3"] not in data and held["turn:4"] in data
    assert "turn:3" not in {node for node, _ in index.query(vectors[3], k=20)}
    index.add(["turn:3"], vectors[3:4])  # a removed id added again: a position of its own
    assert index.query(vectors[3], k=1)[0][0] == "turn:3" and len(index) == 20


def test_a_graph_thinned_by_removals_still_answers_k_live_neighbours(tmp_path):
    """990 of 1,000 units removed from a sparse graph (m=2): hnswlib reaches fewer than k live units and
    raised "Cannot return the results in a contiguous 2D array" (20 times in 20 such graphs; a search of
    a memory that followed another writer's corrections crashed so). The search widens its beam, then
    searches exactly."""
    rng = np.random.default_rng(1)
    index = VectorIndex(tmp_path, "turn", 16, m=2, ef_construction=10, ef=10)
    ids = [f"t{i}" for i in range(1000)]
    vectors = rng.normal(size=(1000, 16)).astype(np.float32)
    index.add(ids, vectors)
    index.remove(ids[:990])
    queries = rng.normal(size=(20, 16)).astype(np.float32)
    found, scores = index.query_arrays(queries, 10)
    live = vectors[990:] / np.linalg.norm(vectors[990:], axis=1, keepdims=True)
    exact = (queries / np.linalg.norm(queries, axis=1, keepdims=True)) @ live.T
    for row in range(20):
        assert sorted(found[row]) == sorted(ids[990:])  # all ten live units, none removed
        np.testing.assert_allclose(scores[row], np.sort(exact[row])[::-1], atol=1e-5)
    top = index.query(queries[0], 3)  # approximate, but three live units and no error
    assert len(top) == 3 and {i for i, _ in top} <= set(ids[990:])


def test_vectors_come_from_a_mirror_that_follows_every_change(tmp_path, monkeypatch):
    """``vectors`` asks hnswlib only for the positions added, replaced or removed since it last
    handed them out, and always returns what hnswlib holds: after adds, an in-place replace, a
    removal and a new id, a compaction, and in an index loaded from disk."""
    import graphmem.index as module

    vectors = _vectors(30, seed=5)
    ids = [f"turn:{i}" for i in range(30)]
    index = VectorIndex(tmp_path, "turn", 8)
    index.add(ids, vectors)
    asked: list[int] = []
    items = VectorIndex._items

    def counted(self, labels):
        asked.append(len(labels))
        return items(self, labels)

    monkeypatch.setattr(VectorIndex, "_items", counted)

    def truth(idx: VectorIndex, wanted: list[str]) -> np.ndarray:
        return np.asarray(idx._index.get_items([idx._labels[i] for i in wanted]), dtype=np.float32)

    assert np.array_equal(index.vectors(ids), truth(index, ids)) and asked == [30]
    assert np.array_equal(index.vectors(ids[::-1]), truth(index, ids[::-1])) and asked == [30]  # nothing new
    index.add(["turn:30", "turn:31"], _vectors(2, seed=6))
    index.add(["turn:3"], _vectors(1, seed=7), replace=True)
    index.remove(["turn:5"])
    index.add(["turn:5"], _vectors(1, seed=8))  # back, at a new position
    everything = [*ids, "turn:30", "turn:31"]
    assert np.array_equal(index.vectors(everything), truth(index, everything))
    assert asked[1:] == [4]  # the two new ids, the replaced one and the one back
    assert np.allclose(index.vectors(["turn:3"])[0], _vectors(1, seed=7)[0], atol=1e-6)
    assert index.remove(ids[:10]) == 10 and index.compact() > 0  # positions renumbered
    left = everything[10:]
    assert np.array_equal(index.vectors(left), truth(index, left))
    index.save()
    loaded = VectorIndex(tmp_path, "turn", 8)
    assert loaded.load_or_rebuild(len(left), "", _never) == "loaded"
    assert np.array_equal(loaded.vectors(left), truth(loaded, left)) and np.array_equal(loaded.vectors(left), index.vectors(left))
    # above the limit nothing is mirrored: every call asks hnswlib
    monkeypatch.setattr(module, "MIRROR_LIMIT", 4)
    asked.clear()
    assert np.array_equal(index.vectors(left), truth(index, left)) and np.array_equal(index.vectors(left), truth(index, left))
    assert asked == [len(left), len(left)] and index._mirror is None


@pytest.mark.parametrize("mirror_limit", [None, 4])  # from the mirror, and from hnswlib above its limit
def test_matrix_marks_the_indexed_ids_and_gives_their_vectors_in_order(tmp_path, monkeypatch, mirror_limit):
    import graphmem.index as module

    if mirror_limit is not None:
        monkeypatch.setattr(module, "MIRROR_LIMIT", mirror_limit)
    index = VectorIndex(tmp_path, "turn", 8)
    ids = [f"turn:{i}" for i in range(12)]
    index.add(ids, _vectors(12, seed=9))
    index.remove(["turn:4"])
    wanted = ["turn:7", "turn:4", "turn:absent", "turn:0", "turn:11"]
    present, matrix = index.matrix(wanted)
    assert present.tolist() == [True, False, False, True, True]
    assert matrix.shape == (5, 8) and matrix.dtype == np.float32
    assert np.array_equal(matrix[present], index.vectors(["turn:7", "turn:0", "turn:11"]))
    assert not matrix[~present].any()
    none, empty = index.matrix(["turn:absent"])
    assert none.tolist() == [False] and empty.shape == (1, 8) and not empty.any()


def test_split_embeddings_keeps_the_sound_vectors_and_names_the_others():
    from graphmem.index import split_embeddings

    good = [0.5, 0.25, 0.125]
    rows = [{"id": "a", "embedding": good}, {"id": "b", "embedding": [0.5, 0.25]}, {"id": "c", "embedding": [0.0, 0.0, 0.0]},
            {"id": "d", "embedding": [float("nan"), 1.0, 1.0]}, {"id": "e", "embedding": "0.5 0.25 0.125"},
            {"id": "f", "embedding": None}, {"id": "g", "embedding": [1, 2, 3]}]
    ids, vectors, bad = split_embeddings(rows, 3)
    assert ids == ["a", "g"] and bad == ["b", "c", "d", "e", "f"]
    assert vectors.dtype == np.float32 and vectors.tolist() == [good, [1.0, 2.0, 3.0]]
    ids, vectors, bad = split_embeddings(rows[:1] * 2, 3)  # all sound: one conversion
    assert ids == ["a", "a"] and vectors.shape == (2, 3) and bad == []
    assert split_embeddings([], 3)[1].shape == (0, 3)


def test_a_write_computing_from_a_malformed_stored_vector_names_it():
    from graphmem.errors import StorageError
    from graphmem.forget import _kept_vectors
    from graphmem.index import stored_vector

    assert stored_vector([3.0, 4.0], "turn:x", 2).tolist() == [3.0, 4.0]
    with pytest.raises(StorageError, match="turn:x"):
        stored_vector([3.0, 4.0], "turn:x", 3)
    with pytest.raises(StorageError, match="turn:y"):
        stored_vector(None, "turn:y")
    rows = [{"id": f"turn:{i}", "embedding": [1.0, float(i), 2.0]} for i in range(3)]
    assert len(_kept_vectors(rows)) == 3
    with pytest.raises(StorageError, match=r"^turn:odd:"):  # the one of another length than most
        _kept_vectors([*rows, {"id": "turn:odd", "embedding": [1.0, 2.0]}])
    with pytest.raises(StorageError, match=r"turn:0, turn:odd"):  # no length is the most common: both named
        _kept_vectors([rows[0], {"id": "turn:odd", "embedding": [1.0, 2.0]}])


def _twins(tmp_path, n: int, limit: int, dimension: int = 384, seed: int = 11) -> tuple[VectorIndex, VectorIndex, list[str], np.ndarray]:
    """The same units in an hnswlib index and in an index that keeps up to ``limit`` of them in numpy."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dimension)).astype(np.float32)
    ids = [f"turn:{i}" for i in range(n)]
    ann = VectorIndex(tmp_path / "ann", "turn", dimension)
    small = VectorIndex(tmp_path / "small", "turn", dimension, exact_limit=limit)
    for index in (ann, small):
        index.add(ids, vectors)
    return ann, small, ids, vectors


def test_a_small_index_keeps_no_hnswlib_and_hands_out_hnswlibs_vectors_bit_for_bit(tmp_path):
    """An hnswlib index costs 2.7 MB resident whatever it holds (a served namespace of two messages
    kept four: 10 MB). Up to ``exact_limit`` units an index keeps its vectors in numpy instead: the
    vectors search scores (``matrix``) are those hnswlib would hand out, bit for bit, so search results
    do not change; a nearest-neighbour query (association at a write) answers the same units."""
    ann, small, ids, vectors = _twins(tmp_path, 60, 100)
    assert ann.uses_hnswlib and not small.uses_hnswlib
    wanted = [*ids[::-3], "turn:absent"]
    assert all(np.array_equal(a, b) for a, b in zip(ann.matrix(wanted), small.matrix(wanted)))
    queries = np.random.default_rng(2).normal(size=(7, 384)).astype(np.float32)
    for k in (1, 10, 60):
        found_ann, scores_ann = ann.query_arrays(queries, k)
        found_small, scores_small = small.query_arrays(queries, k)
        assert found_small.tolist() == found_ann.tolist()  # (60 units, beam 64: hnswlib is exact here too)
        np.testing.assert_allclose(scores_small, scores_ann, atol=1e-6)
    assert small.query(vectors[5], 1)[0][0] == "turn:5"
    # a replacement and a removal, then saved and loaded: still bit for bit, still no hnswlib
    for index in (ann, small):
        index.add(["turn:2"], vectors[9:10], replace=True)
        index.remove(["turn:7"])
        index.save()
    assert list((tmp_path / "small").glob("turn.*.npy")) and not list((tmp_path / "small").glob("turn.*.hnsw"))
    loaded = VectorIndex(tmp_path / "small", "turn", 384, exact_limit=100)
    assert loaded.load_or_rebuild(59, "", _never) == "loaded" and not loaded.uses_hnswlib
    assert not loaded.contains("turn:7") and len(loaded) == 59
    assert all(np.array_equal(a, b) for a, b in zip(ann.matrix(wanted), loaded.matrix(wanted)))
    assert "turn:7" not in set(loaded.query_arrays(queries, 59)[0].ravel())


def test_an_index_outgrowing_the_limit_moves_into_hnswlib_and_a_saved_one_loads_either_way(tmp_path):
    ann, small, ids, vectors = _twins(tmp_path, 40, 50)
    small.remove(["turn:3"])
    more = np.random.default_rng(4).normal(size=(20, 384)).astype(np.float32)
    small.add([f"turn:{i}" for i in range(40, 60)], more)  # 61 positions: past the limit
    assert small.uses_hnswlib and len(small) == 59 and not small.contains("turn:3")
    np.testing.assert_allclose(small.vectors(["turn:0", "turn:59"]), ann.vectors(["turn:0"]).tolist() + [
        (more[-1] / np.linalg.norm(more[-1])).tolist()], atol=1e-6)
    assert "turn:3" not in set(small.query_arrays(vectors[:5], 59)[0].ravel())
    # an hnswlib file loads into numpy where the index is small enough, a numpy one into hnswlib where it is not
    ann.save()
    as_small = VectorIndex(tmp_path / "ann", "turn", 384, exact_limit=1000)
    assert as_small.load_or_rebuild(40, "", _never) == "loaded" and not as_small.uses_hnswlib
    assert np.array_equal(as_small.vectors(ids), ann.vectors(ids))
    saved = VectorIndex(tmp_path / "numpy", "turn", 384, exact_limit=1000)
    saved.add(ids, vectors)
    saved.save()
    as_ann = VectorIndex(tmp_path / "numpy", "turn", 384)
    assert as_ann.load_or_rebuild(40, "", _never) == "loaded" and as_ann.uses_hnswlib
    np.testing.assert_allclose(as_ann.vectors(ids), ann.vectors(ids), atol=1e-6)
    assert as_ann.query(vectors[8], 1)[0][0] == "turn:8"


def test_a_corrupt_numpy_file_is_rebuilt_from_the_store(tmp_path):
    index = VectorIndex(tmp_path, "turn", 8, exact_limit=100)
    index.add(["turn:a", "turn:b"], _vectors(2))
    index.save()
    (saved,) = tmp_path.glob("turn.*.npy")
    saved.write_bytes(b"not numpy")
    again = VectorIndex(tmp_path, "turn", 8, exact_limit=100)
    assert again.load_or_rebuild(2, "", lambda: (["turn:a", "turn:b"], _vectors(2))) == "rebuilt"
    assert again.query(_vectors(2)[1], 1)[0][0] == "turn:b"
