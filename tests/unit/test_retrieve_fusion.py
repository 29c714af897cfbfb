"""Score calibration, weighted and reciprocal rank fusion, relevance entropy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from graphmem.retrieve.fusion import (
    align,
    normalize,
    reciprocal_rank_fusion,
    relevance_entropy,
    weighted_fusion,
)

NAN = float("nan")


def test_normalize_methods():
    x = np.array([1.0, 3.0, NAN, 2.0])
    np.testing.assert_allclose(normalize(x, "minmax"), [0.0, 1.0, 0.0, 0.5])
    np.testing.assert_allclose(normalize(x, "max"), [1 / 3, 1.0, 0.0, 2 / 3])
    # mean 2, population sd sqrt(2/3); negative z clipped to 0
    np.testing.assert_allclose(normalize(x, "zscore"), [0.0, 1 / math.sqrt(2 / 3), 0.0, 0.0])
    np.testing.assert_allclose(normalize(x, "none"), [1.0, 3.0, 0.0, 2.0])
    np.testing.assert_allclose(normalize(np.array([5.0, 5.0]), "minmax"), [1.0, 1.0])
    np.testing.assert_allclose(normalize(np.array([NAN, NAN])), [0.0, 0.0])
    with pytest.raises(ValueError):
        normalize(x, "softmax")


def test_align_unions_candidates_with_nan_for_missing():
    ids, arrays = align({"lexical": {"t1": 2.0, "t2": 1.0}, "dense": {"t3": 0.9, "t1": 0.5}})
    assert ids == ["t1", "t2", "t3"]
    np.testing.assert_allclose(arrays["lexical"], [2.0, 1.0, NAN])
    np.testing.assert_allclose(arrays["dense"], [0.5, NAN, 0.9])


def test_weighted_fusion_sums_calibrated_contributions():
    ids, arrays = align({"lexical": {"t1": 2.0, "t2": 1.0, "t3": 0.0}, "dense": {"t1": 0.0, "t2": 1.0, "t3": 0.5}})
    fused = weighted_fusion(arrays, {"lexical": 1.0, "dense": 2.0}, ids=ids)
    # lexical minmax [1, .5, 0]; dense minmax [0, 1, .5] * 2
    np.testing.assert_allclose(fused.scores, [1.0, 2.5, 1.0])
    assert fused.explain(1) == {"dense": 2.0, "lexical": 0.5}
    top = fused.top(2)
    assert [t[0] for t in top] == ["t2", "t1"]  # t1 and t3 tie; the earlier position wins
    assert top[0][1] == pytest.approx(2.5)
    with pytest.raises(ValueError):
        weighted_fusion({"a": np.zeros(2), "b": np.zeros(3)})
    with pytest.raises(ValueError):
        weighted_fusion({})


def test_reciprocal_rank_fusion_hand_values():
    a = np.array([3.0, 2.0, 1.0])  # ranks x=1, y=2, z=3
    b = np.array([0.1, 0.9, NAN])  # ranks y=1, x=2, z missing
    fused = reciprocal_rank_fusion({"a": a, "b": b}, k=60, ids=["x", "y", "z"])
    np.testing.assert_allclose(fused.scores, [1 / 61 + 1 / 62, 1 / 62 + 1 / 61, 1 / 63])
    assert fused.contributions["b"][2] == 0.0
    weighted = reciprocal_rank_fusion({"a": a, "b": b}, {"a": 2.0}, k=0)
    np.testing.assert_allclose(weighted.scores, [2 / 1 + 1 / 2, 2 / 2 + 1 / 1, 2 / 3])
    assert list(weighted.order()) == [0, 1, 2]
    with pytest.raises(ValueError):
        reciprocal_rank_fusion({"a": a}, k=-1)


def test_relevance_entropy():
    assert relevance_entropy(np.ones(10), top_k=10) == pytest.approx(1.0)
    # two scores 1 and 0 at temperature 1: p = (e, 1) / (e + 1)
    p = math.e / (math.e + 1)
    expected = -(p * math.log(p) + (1 - p) * math.log(1 - p)) / math.log(2)
    assert relevance_entropy(np.array([0.0, 1.0, NAN]), top_k=2, temperature=1.0) == pytest.approx(expected)
    assert expected == pytest.approx(0.839942, abs=1e-6)
    peaked = relevance_entropy(np.array([0.9, 0.1, 0.1, 0.1]), top_k=4, temperature=0.05)
    assert peaked < 0.01
    assert relevance_entropy(np.array([0.3])) == 0.0
    with pytest.raises(ValueError):
        relevance_entropy(np.ones(3), top_k=1)
