"""Segmentation metrics (Pk, WindowDiff) and the episode-segmentation benchmark.

A segmentation of ``n`` items is given as the sorted start indices of its segments, the same
shape :meth:`graphmem.ingest.segment.EpisodeSegmenter.boundaries` returns (``[0, 12, 30]`` means the
segments ``[0, 12)``, ``[12, 30)`` and ``[30, n)``). Index ``0`` may be left out; it is always
a segment start.

Both metrics are error rates in ``[0, 1]``, lower is better:

* **Pk** (Beeferman, Berger & Lafferty, 1999) slides a probe of width ``k`` over the sequence
  and counts the positions where reference and hypothesis disagree on whether the two ends of
  the probe lie in the same segment.
* **WindowDiff** (Pevzner & Hearst, 2002) slides the same window and counts the positions where
  the *number* of boundaries inside the window differs; it also penalises near-misses and
  extra boundaries that Pk lets through.

``k`` defaults to half the mean reference segment length, rounded, and at least 1.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "default_k",
    "fixed_window_boundaries",
    "pk",
    "segmentation_benchmark",
    "window_diff",
]

logger = logging.getLogger(__name__)


def _boundary_mask(starts: Iterable[int], n: int, name: str) -> np.ndarray:
    """Boolean array ``b`` of length ``n``, ``b[j]`` true iff a segment starts at ``j > 0``."""
    mask = np.zeros(n, dtype=bool)
    for raw in starts:
        j = int(raw)
        if j < 0 or j >= max(n, 1):
            raise ValueError(f"{name}: segment start {j} is outside [0, {n})")
        if j > 0:
            mask[j] = True
    return mask


def default_k(reference_boundaries: Iterable[int], n: int) -> int:
    """Return the conventional probe width: half the mean reference segment length.

    Args:
        reference_boundaries: segment start indices of the reference segmentation.
        n: number of items segmented.

    Returns:
        ``round(n / (2 * number_of_reference_segments))``, at least 1.
    """
    if n <= 0:
        return 1
    segments = int(_boundary_mask(reference_boundaries, n, "reference").sum()) + 1
    return max(1, round(n / segments / 2.0))


def _resolve_k(reference: np.ndarray, n: int, k: int | None) -> int:
    if k is None:
        segments = int(reference.sum()) + 1
        k = max(1, round(n / segments / 2.0))
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return int(k)


def pk(
    reference_boundaries: Iterable[int],
    hypothesis_boundaries: Iterable[int],
    n: int,
    k: int | None = None,
) -> float:
    """Pk error of a hypothesised segmentation against a reference.

    For every ``i`` in ``[0, n - k)`` the probe checks whether items ``i`` and ``i + k`` fall in
    the same segment; Pk is the fraction of probes where reference and hypothesis disagree.

    Args:
        reference_boundaries: segment start indices of the true segmentation.
        hypothesis_boundaries: segment start indices of the segmentation under test.
        n: number of items (turns) segmented.
        k: probe width; ``None`` means half the mean reference segment length.

    Returns:
        The error rate in ``[0, 1]``; ``0.0`` when ``n - k < 1`` (nothing to probe).

    Raises:
        ValueError: a start index lies outside ``[0, n)`` or ``k < 1``.
    """
    ref = _boundary_mask(reference_boundaries, n, "reference")
    hyp = _boundary_mask(hypothesis_boundaries, n, "hypothesis")
    k = _resolve_k(ref, n, k)
    if n - k < 1:
        return 0.0
    # Segment id of every item: how many boundaries at or before it.
    ref_id = np.cumsum(ref)
    hyp_id = np.cumsum(hyp)
    ref_same = ref_id[:-k] == ref_id[k:]
    hyp_same = hyp_id[:-k] == hyp_id[k:]
    return float(np.mean(ref_same != hyp_same))


def window_diff(
    reference_boundaries: Iterable[int],
    hypothesis_boundaries: Iterable[int],
    n: int,
    k: int | None = None,
) -> float:
    """WindowDiff error of a hypothesised segmentation against a reference.

    For every ``i`` in ``[0, n - k)`` the window covers the ``k`` gaps between items ``i`` and
    ``i + k``; WindowDiff is the fraction of windows whose boundary counts differ.

    Args:
        reference_boundaries: segment start indices of the true segmentation.
        hypothesis_boundaries: segment start indices of the segmentation under test.
        n: number of items (turns) segmented.
        k: window width; ``None`` means half the mean reference segment length.

    Returns:
        The error rate in ``[0, 1]``; ``0.0`` when ``n - k < 1``.

    Raises:
        ValueError: a start index lies outside ``[0, n)`` or ``k < 1``.
    """
    ref = _boundary_mask(reference_boundaries, n, "reference")
    hyp = _boundary_mask(hypothesis_boundaries, n, "hypothesis")
    k = _resolve_k(ref, n, k)
    if n - k < 1:
        return 0.0
    # Boundaries inside window i are the starts at i+1 .. i+k, i.e. cum[i+k] - cum[i].
    ref_cum = np.cumsum(ref)
    hyp_cum = np.cumsum(hyp)
    ref_count = ref_cum[k:] - ref_cum[:-k]
    hyp_count = hyp_cum[k:] - hyp_cum[:-k]
    return float(np.mean(ref_count != hyp_count))


def fixed_window_boundaries(n: int, num_segments: int, offset: int = 0) -> list[int]:
    """Baseline segmentation: ``num_segments`` segments of (near) equal size.

    Args:
        n: number of items.
        num_segments: wanted number of segments; clamped to ``[1, n]``.
        offset: shift of every inner boundary to the right, in items; the first segment grows
            and the last one shrinks. Starts that would fall at or beyond ``n`` are dropped.

    Returns:
        Sorted segment start indices ``0`` and ``round(offset + i * n / num_segments)`` for
        ``i`` in ``1 .. num_segments - 1``; ``[]`` when ``n == 0``.
    """
    if n <= 0:
        return []
    m = min(max(int(num_segments), 1), n)
    inner = (round(offset + i * n / m) for i in range(1, m))
    return sorted({0, *(b for b in inner if 0 < b < n)})


def _phase_averaged_baseline(
    reference: Sequence[int], n: int, num_segments: int, k: int
) -> dict[str, float]:
    """Mean Pk / WindowDiff of the equal-size baseline over every integer phase offset.

    The phase-0 grid can line up with evenly spaced reference boundaries by luck (or miss them
    all); averaging over offsets ``0 .. segment_length - 1`` removes that luck.
    """
    m = min(max(num_segments, 1), max(n, 1))
    length = max(1, n // m)
    scores = [
        (pk(reference, b, n, k), window_diff(reference, b, n, k))
        for b in (fixed_window_boundaries(n, m, offset) for offset in range(length))
    ]
    return {
        "pk": float(np.mean([s[0] for s in scores])),
        "window_diff": float(np.mean([s[1] for s in scores])),
    }


def segmentation_benchmark(
    conversations: Iterable[tuple[np.ndarray, Sequence[int]]],
    segmenter: Any | None = None,
    k: int | None = None,
) -> dict[str, Any]:
    """Score the episode segmenter against true session starts, with an equal-count baseline.

    The segmenter sees only the concatenated turn embeddings of each conversation: no session
    ends, no dates. The baseline cuts the same conversation into as many equal-size segments as
    the segmenter produced, so the comparison is about *where* boundaries go, not how many.

    Args:
        conversations: ``(embeddings, session_start_indices)`` per conversation, embeddings of
            shape ``(n, d)``, L2-normalised, in turn order.
        segmenter: an object with ``boundaries(embeddings) -> list[int]``; defaults to
            ``EpisodeSegmenter()`` with its default configuration.
        k: probe width for both metrics; ``None`` uses half the mean session length per
            conversation.

    Returns:
        ``{"conversations": [...], "mean": {...}}``. Each conversation entry holds ``n``,
        ``k``, ``reference_segments``, ``segments`` (the segmenter's count) and, under
        ``"segmenter"``, ``"baseline"`` and ``"baseline_phase_mean"``, ``{"pk": float,
        "window_diff": float}``. ``"baseline"`` is the equal-size grid starting at turn 0;
        ``"baseline_phase_mean"`` averages the same grid over every shift of its inner
        boundaries, so a lucky or unlucky alignment with evenly spaced sessions does not
        decide the comparison. ``"mean"`` holds the three blocks averaged over conversations,
        plus the mean ``segments`` and ``reference_segments`` (empty dict when there are no
        conversations).
    """
    if segmenter is None:
        from graphmem.ingest.segment import EpisodeSegmenter

        segmenter = EpisodeSegmenter()

    rows: list[dict[str, Any]] = []
    for index, (embeddings, starts) in enumerate(conversations):
        emb = np.asarray(embeddings, dtype=np.float32)
        n = int(emb.shape[0])
        reference = sorted({0, *(int(s) for s in starts)}) if n else []
        hypothesis = segmenter.boundaries(emb)
        baseline = fixed_window_boundaries(n, len(hypothesis))
        kk = k if k is not None else default_k(reference, n)
        row = {
            "index": index,
            "n": n,
            "k": kk,
            "reference_segments": len(reference),
            "segments": len(hypothesis),
            "segmenter": {
                "pk": pk(reference, hypothesis, n, kk),
                "window_diff": window_diff(reference, hypothesis, n, kk),
            },
            "baseline": {
                "pk": pk(reference, baseline, n, kk),
                "window_diff": window_diff(reference, baseline, n, kk),
            },
            "baseline_phase_mean": _phase_averaged_baseline(reference, n, len(hypothesis), kk),
        }
        logger.debug("segmentation benchmark conversation %d: %s", index, row)
        rows.append(row)

    mean: dict[str, Any] = {}
    if rows:
        for side in ("segmenter", "baseline", "baseline_phase_mean"):
            mean[side] = {
                metric: float(np.mean([r[side][metric] for r in rows]))
                for metric in ("pk", "window_diff")
            }
        mean["segments"] = float(np.mean([r["segments"] for r in rows]))
        mean["reference_segments"] = float(np.mean([r["reference_segments"] for r in rows]))
    return {"conversations": rows, "mean": mean}
