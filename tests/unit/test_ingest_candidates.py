"""Association candidates gathered for a whole batch at once (graphmem.ingest.clustering):
each unit's best candidates by score with ties by id, and the batch's own units of earlier
sessions, the same as picking them unit by unit."""

from __future__ import annotations

import numpy as np

from graphmem.ingest.clustering import _best_candidates, _earlier_sessions
from graphmem.ingest.types import UnitBatch


def _batch(prefix: str, vectors: np.ndarray, sessions: list[int]) -> UnitBatch:
    return UnitBatch(ids=[f"{prefix}{i}" for i in range(len(vectors))], vectors=vectors.astype(np.float32),
                     sessions=sessions, texts=[""] * len(vectors), parents=[None] * len(vectors))


def test_best_candidates_order_by_score_then_id_and_pad_short_rows():
    rng = np.random.default_rng(4)
    rows, width, top_n = 30, 12, 5
    scores = np.round(rng.random((rows, width)), 1).astype(np.float32)  # many equal scores
    scores[rng.random((rows, width)) < 0.3] = -np.inf  # excluded or missing candidates
    scores[0, :] = -np.inf
    scores[1, 3:] = -np.inf  # a row with fewer than top_n candidates
    ids = np.empty((rows, width), dtype=object)
    ids[:] = [[f"u{int(v)}" for v in row] for row in rng.integers(0, 50, (rows, width))]
    grans = np.full((rows, width), "turn", dtype=object)
    got_ids, got_scores, _ = _best_candidates(scores, ids, grans, top_n)
    for r in range(rows):
        expected = sorted(((-float(s), i) for s, i in zip(scores[r], ids[r]) if np.isfinite(s)))[:top_n]
        valid = ~np.isnan(got_scores[r])
        assert [(-s, i) for s, i in zip(got_scores[r][valid], got_ids[r][valid])] == expected
        assert valid.tolist() == [True] * len(expected) + [False] * (len(valid) - len(expected))


def test_earlier_sessions_keep_the_best_units_of_earlier_sessions_only():
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(40, 8))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors[7] = vectors[3]  # two units with the same vector: ties go by position
    sessions = sorted(rng.integers(0, 6, 40).tolist())
    batch = _batch("t", vectors, sessions)
    ids, scores = _earlier_sessions(batch, batch, top_n=4)
    for i in range(40):
        earlier = [j for j in range(40) if sessions[j] < sessions[i]]
        sims = batch.vectors[earlier] @ batch.vectors[i]
        best = [earlier[j] for j in np.argsort(-sims, kind="stable")[:4]]
        valid = np.isfinite(scores[i])
        assert list(ids[i][valid]) == [f"t{j}" for j in best]
        np.testing.assert_allclose(scores[i][valid], np.sort(sims)[::-1][:4], rtol=1e-5)
