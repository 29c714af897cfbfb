"""Fusion of several retrieval strategies' scores, with per-item contribution breakdowns.

Every function works on *aligned* score arrays: one array per strategy, all over the same
candidate list, ``NaN`` where a strategy did not retrieve the candidate (e.g. outside an ANN
top-k). Use :func:`align` to turn ``{strategy: {id: score}}`` candidate lists into that form.

* :func:`normalize` -- calibrates one strategy's scores (min-max, z-score, divide-by-max).
* :func:`weighted_fusion` -- calibrated, weighted sum of strategies.
* :func:`reciprocal_rank_fusion` -- RRF (Cormack et al., 2009), weighted.
* :func:`relevance_entropy` -- entropy of the softmax over the top-k scores, the confidence
  signal MemGAS uses to weight granularities.

Both fusions return :class:`FusedScores`, which keeps each strategy's contribution so that a
hit can be explained ("lexical 0.61 + dense 0.32 + episode 0.20").
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "FusedScores",
    "align",
    "normalize",
    "reciprocal_rank_fusion",
    "relevance_entropy",
    "weighted_fusion",
]

logger = logging.getLogger(__name__)

_NORMALIZATIONS = ("minmax", "zscore", "max", "none")


def align(
    candidates: Mapping[str, Mapping[Hashable, float]],
) -> tuple[list[Hashable], dict[str, np.ndarray]]:
    """Put per-strategy candidate lists on one shared id list.

    Args:
        candidates: strategy name -> {unit id: score}.

    Returns:
        ``(ids, arrays)``: ids in order of first appearance (strategies in the mapping's
        order, each in its own order), and strategy -> float array over ``ids`` with ``NaN``
        where the strategy did not score the unit.
    """
    ids: list[Hashable] = []
    position: dict[Hashable, int] = {}
    for scores in candidates.values():
        for unit in scores:
            if unit not in position:
                position[unit] = len(ids)
                ids.append(unit)
    arrays: dict[str, np.ndarray] = {}
    for name, scores in candidates.items():
        arr = np.full(len(ids), np.nan)
        for unit, value in scores.items():
            arr[position[unit]] = float(value)
        arrays[name] = arr
    return ids, arrays


def normalize(scores: np.ndarray, method: str = "minmax") -> np.ndarray:
    """Calibrate one strategy's scores; ``NaN`` (not retrieved) becomes 0.

    Args:
        scores: raw scores, ``NaN`` for units the strategy did not return.
        method: ``"minmax"`` maps ``[min, max]`` to ``[0, 1]``; ``"zscore"`` subtracts the mean
            and divides by the standard deviation, then clips below at 0 so that missing units
            and below-average units are alike; ``"max"`` divides by the maximum (for scores
            with a natural zero such as BM25); ``"none"`` keeps the raw values.

    Returns:
        A float array of the same length. Constant inputs map to 1.0 (minmax, max) or 0.0
        (zscore) where finite.

    Raises:
        ValueError: for an unknown ``method``.
    """
    if method not in _NORMALIZATIONS:
        raise ValueError(f"unknown normalization {method!r}; choose from {_NORMALIZATIONS}")
    x = np.asarray(scores, dtype=np.float64)
    finite = np.isfinite(x)
    out = np.zeros_like(x)
    if not finite.any():
        return out
    v = x[finite]
    if method == "minmax":
        lo, hi = v.min(), v.max()
        out[finite] = (v - lo) / (hi - lo) if hi > lo else 1.0
    elif method == "zscore":
        sd = v.std()
        out[finite] = np.maximum((v - v.mean()) / sd, 0.0) if sd > 0 else 0.0
    elif method == "max":
        hi = np.abs(v).max()
        out[finite] = v / hi if hi > 0 else 1.0
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


def _check_aligned(scores: Mapping[str, np.ndarray]) -> int:
    if not scores:
        raise ValueError("nothing to fuse: no strategies given")
    lengths = {len(v) for v in scores.values()}
    if len(lengths) != 1:
        raise ValueError(f"strategy score arrays differ in length: {sorted(lengths)}")
    return lengths.pop()


def weighted_fusion(
    scores: Mapping[str, np.ndarray],
    weights: Mapping[str, float] | None = None,
    normalization: str | Mapping[str, str] = "minmax",
    ids: Sequence[Hashable] | None = None,
) -> FusedScores:
    """Calibrated weighted sum: ``sum_s w_s * normalize(scores_s)``.

    Args:
        scores: strategy -> aligned raw scores (``NaN`` = not retrieved, contributes 0).
        weights: strategy -> weight; missing strategies weigh 1.0. Weight 0 drops a strategy.
        normalization: one method for all strategies or strategy -> method
            (see :func:`normalize`).
        ids: optional candidate ids carried into the result.

    Returns:
        :class:`FusedScores` with one contribution array per strategy.

    Raises:
        ValueError: for no strategies or arrays of different lengths.
    """
    n = _check_aligned(scores)
    weights = weights or {}
    total = np.zeros(n)
    contributions: dict[str, np.ndarray] = {}
    for name, raw in scores.items():
        method = normalization if isinstance(normalization, str) else normalization.get(name, "minmax")
        part = float(weights.get(name, 1.0)) * normalize(raw, method)
        contributions[name] = part
        total = total + part
    return FusedScores(total, contributions, ids)


def _ranks(raw: np.ndarray) -> np.ndarray:
    """0-based ranks, best first, ties by position; ``NaN`` gets ``inf``."""
    x = np.asarray(raw, dtype=np.float64)
    finite = np.isfinite(x)
    ranks = np.full(len(x), np.inf)
    pos = np.flatnonzero(finite)
    order = pos[np.lexsort((pos, -x[pos]))]
    ranks[order] = np.arange(len(order))
    return ranks


def reciprocal_rank_fusion(
    scores: Mapping[str, np.ndarray],
    weights: Mapping[str, float] | None = None,
    k: float = 60.0,
    ids: Sequence[Hashable] | None = None,
) -> FusedScores:
    """Weighted reciprocal rank fusion: ``sum_s w_s / (k + rank_s)`` with 1-based ranks.

    Args:
        scores: strategy -> aligned raw scores (higher is better; ``NaN`` = not retrieved,
            contributes 0).
        weights: strategy -> weight; missing strategies weigh 1.0.
        k: the RRF constant (60 in the original paper); larger flattens the rank curve.
        ids: optional candidate ids carried into the result.

    Returns:
        :class:`FusedScores` with one contribution array per strategy.

    Raises:
        ValueError: for no strategies, arrays of different lengths, or ``k < 0``.
    """
    n = _check_aligned(scores)
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    weights = weights or {}
    total = np.zeros(n)
    contributions: dict[str, np.ndarray] = {}
    for name, raw in scores.items():
        ranks = _ranks(raw)
        part = np.where(np.isfinite(ranks), float(weights.get(name, 1.0)) / (k + ranks + 1.0), 0.0)
        contributions[name] = part
        total = total + part
    return FusedScores(total, contributions, ids)


def relevance_entropy(scores: np.ndarray, top_k: int = 10, temperature: float = 0.1) -> float:
    """Normalised Shannon entropy of the softmax over the ``top_k`` highest scores.

    Low entropy means one or a few units stand out (a confident granularity); high entropy
    means the relevance mass is spread evenly. Following MemGAS the distribution is
    ``softmax(top_k scores / temperature)``; the entropy is divided by ``log(top_k)`` so that
    granularities with different candidate counts are comparable.

    Args:
        scores: relevance scores of one granularity (``NaN`` ignored).
        top_k: how many of the best scores form the distribution.
        temperature: softmax temperature, in the scores' units (0.1 suits cosine similarity;
            use a larger one for BM25 or normalise first).

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
