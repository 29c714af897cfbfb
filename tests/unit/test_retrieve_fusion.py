"""Score calibration, fused scores and relevance entropy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from graphmem.retrieve.fusion import FusedScores, normalize, relevance_entropy

NAN = float("nan")


def test_normalize_methods():
    x = np.array([1.0, 3.0, NAN, 2.0])
    np.testing.assert_allclose(normalize(x, "minmax"), [0.0, 1.0, 0.0, 0.5])
    np.testing.assert_allclose(normalize(x, "max"), [1 / 3, 1.0, 0.0, 2 / 3])
    # mean 2, population sd sqrt(2/3); negative z clipped to 0
    np.testing.assert_allclose(normalize(x, "zscore"), [0.0, 1 / math.sqrt(2 / 3), 0.0, 0.0])
    np.testing.assert_allclose(normalize(x, "none"), [1.0, 3.0, 0.0, 2.0])
    np.testing.assert_allclose(normalize(np.array([5.0, 5.0]), "minmax"), [1.0, 1.0])
    np.testing.assert_allclose(normalize(np.array([5.0, 5.0]), "max"), [1.0, 1.0])
    # no unit scored: a query sharing no term with any unit is evidence for none of them
    for method in ("minmax", "max"):
        np.testing.assert_allclose(normalize(np.array([0.0, 0.0, NAN]), method), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(normalize(np.array([-0.2]), "minmax"), [0.0])
    np.testing.assert_allclose(normalize(np.array([NAN, NAN])), [0.0, 0.0])
    with pytest.raises(ValueError):
        normalize(x, "softmax")


def test_fused_scores_order_explain_and_top():
    fused = FusedScores(np.array([1.0, 2.5, 1.0]), {"lexical": np.array([1.0, 0.5, 0.0]), "dense": np.array([0.0, 2.0, 1.0])},
                        ids=["t1", "t2", "t3"])
    assert fused.explain(1) == {"dense": 2.0, "lexical": 0.5}
    top = fused.top(2)
    assert [t[0] for t in top] == ["t2", "t1"]  # t1 and t3 tie; the earlier position wins
    assert top[0][1] == pytest.approx(2.5)


def test_relevance_entropy():
    assert relevance_entropy(np.ones(10), top_k=10, temperature=0.1) == pytest.approx(1.0)
    # two scores 1 and 0 at temperature 1: p = (e, 1) / (e + 1)
    p = math.e / (math.e + 1)
    expected = -(p * math.log(p) + (1 - p) * math.log(1 - p)) / math.log(2)
    assert relevance_entropy(np.array([0.0, 1.0, NAN]), top_k=2, temperature=1.0) == pytest.approx(expected)
    assert expected == pytest.approx(0.839942, abs=1e-6)
    peaked = relevance_entropy(np.array([0.9, 0.1, 0.1, 0.1]), top_k=4, temperature=0.05)
    assert peaked < 0.01
    assert relevance_entropy(np.array([0.3]), top_k=10, temperature=0.1) == 0.0
    with pytest.raises(ValueError):
        relevance_entropy(np.ones(3), top_k=1, temperature=0.1)
