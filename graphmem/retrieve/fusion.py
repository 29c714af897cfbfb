"""Score calibration and fused scores with per-item contribution breakdowns.

Every function works on score arrays over one candidate list, ``NaN`` where a strategy did
not retrieve the candidate (e.g. outside an ANN top-k).

* :func:`normalize` -- calibrates one strategy's scores (min-max, z-score, divide-by-max).
* :class:`FusedScores` -- a fused score per candidate that keeps each component's
  contribution, so that a hit can be explained ("lexical 0.61 + dense 0.32 + episode 0.20");
  :func:`graphmem.retrieve.hierarchy.score_turns` builds it.
* :func:`relevance_entropy` -- entropy of the softmax over the top-k scores, the confidence
  signal MemGAS uses to weight granularities.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "FusedScores",
    "normalize",
    "relevance_entropy",
]

logger = logging.getLogger(__name__)

_NORMALIZATIONS = ("minmax", "zscore", "max", "none")


def normalize(scores: np.ndarray, method: str = "minmax") -> np.ndarray:
    """Calibrate one strategy's scores; ``NaN`` (not retrieved) becomes 0.

    Args:
        scores: raw scores, ``NaN`` for units the strategy did not return.
        method: ``"minmax"`` maps ``[min, max]`` to ``[0, 1]``; ``"zscore"`` subtracts the mean
            and divides by the standard deviation, then clips below at 0 so that missing units
            and below-average units are alike; ``"max"`` divides by the maximum (for scores
            with a natural zero such as BM25); ``"none"`` keeps the raw values.

    Returns:
        A float array of the same length. Constant inputs map to 1.0 (minmax, max) where
        they are positive and to 0.0 otherwise (a query sharing no term with any unit is no
        evidence for all of them), and to 0.0 under zscore.

    Raises:
        ValueError: for an unknown ``method``.
    """
    if method not in _NORMALIZATIONS:
        raise ValueError(f"unknown normalization {method!r}; choose from {_NORMALIZATIONS}")
    x = np.asarray(scores, dtype=np.float64)
    if method == "minmax" and len(x):
        lo, hi = x.min(), x.max()
        if math.isfinite(lo) and math.isfinite(hi):  # every unit scored (BM25, activation): no masks needed
            return (x - lo) / (hi - lo) if hi > lo else np.full(len(x), float(hi > 0))
    finite = np.isfinite(x)
    out = np.zeros_like(x)
    if not finite.any():
        return out
    v = x[finite]
    if method == "minmax":
        lo, hi = v.min(), v.max()
        out[finite] = (v - lo) / (hi - lo) if hi > lo else float(hi > 0)
    elif method == "zscore":
        sd = v.std()
        out[finite] = np.maximum((v - v.mean()) / sd, 0.0) if sd > 0 else 0.0
    elif method == "max":
        hi = np.abs(v).max()
        out[finite] = v / hi if hi > 0 else 0.0
    else:
        out[finite] = v
    return out


@dataclass(frozen=True)
class FusedScores:
    """The result of fusing several strategies over one candidate list.

    Attributes:
        scores: fused score per candidate.
        contributions: strategy -> per-candidate contribution; they sum to ``scores``.
        ids: candidate ids, when known (otherwise positions are the ids).
    """

    scores: np.ndarray
    contributions: Mapping[str, np.ndarray]
    ids: Sequence[Hashable] | None = None

    def order(self) -> np.ndarray:
        """Candidate positions, best first; ties broken by position."""
        return np.lexsort((np.arange(len(self.scores)), -self.scores))

    def explain(self, position: int) -> dict[str, float]:
        """Each strategy's contribution to the candidate at ``position``.

        Args:
            position: index into :attr:`scores`.

        Returns:
            strategy -> contribution, largest first.
        """
        parts = {name: float(c[position]) for name, c in self.contributions.items()}
        return dict(sorted(parts.items(), key=lambda kv: (-kv[1], kv[0])))

    def top(self, k: int) -> list[tuple[Hashable, float, dict[str, float]]]:
        """The ``k`` best candidates as ``(id, score, contributions)``.

        Args:
            k: how many.

        Returns:
            A list, best first.
        """
        out = []
        for pos in self.order()[:k]:
            unit = self.ids[pos] if self.ids is not None else int(pos)
            out.append((unit, float(self.scores[pos]), self.explain(int(pos))))
        return out


def relevance_entropy(scores: np.ndarray, *, top_k: int, temperature: float) -> float:
    """Normalised Shannon entropy of the softmax over the ``top_k`` highest scores.

    Low entropy means one or a few units stand out (a confident granularity); high entropy
    means the relevance mass is spread evenly. Following MemGAS the distribution is
    ``softmax(top_k scores / temperature)``; the entropy is divided by ``log(top_k)`` so that
    granularities with different candidate counts are comparable.

    Args:
        scores: relevance scores of one granularity (``NaN`` ignored).
        top_k: how many of the best scores form the distribution.
        temperature: softmax temperature, in the scores' units
            (``RetrievalConfig.entropy_score_temperature`` for cosine similarity).

    Returns:
        A value in ``[0, 1]``; 0.0 when fewer than two finite scores exist.

    Raises:
        ValueError: when ``top_k < 2`` or ``temperature <= 0``.
    """
    if top_k < 2:
        raise ValueError(f"top_k must be >= 2, got {top_k}")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    x = np.asarray(scores, dtype=np.float64)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return 0.0
    top = np.sort(x)[::-1][:top_k] / temperature
    p = np.exp(top - top.max())
    p /= p.sum()
    h = -float(np.sum(p * np.log(np.where(p > 0, p, 1.0))))
    return h / math.log(len(top))
