"""Episode segmentation: split a conversation's turn stream into episodes.

An episode is a run of consecutive turns about one thing. :class:`EpisodeSegmenter` finds
episode starts from three signals, with no language model:

* **Topic shifts**, TextTiling-style (Hearst, 1997) over sentence embeddings. At every gap
  between two turns the *running window* of the previous turns (an exponentially decayed sum
  of their embeddings, the most recent weighted most) is compared with the block of the
  following turns by cosine similarity. A topic shift shows up as a valley in that similarity
  curve; its *depth score* is how far the curve climbs back up on both sides. Depth scores are
  averaged over several window sizes, so short asides and broad topic changes both count.
  A gap becomes a boundary when its depth is an outlier among the depths of the same stretch
  of conversation (a robust z-score, median and MAD, above ``threshold_z``) and above an
  absolute floor, or when it is deep enough to be a boundary anywhere (``strong_depth``;
  short blocks have too few gaps for reliable statistics), keeping at least ``min_turns``
  turns per episode; the deepest valleys are taken first. Median and MAD, unlike mean and
  standard deviation, are not inflated by the boundaries themselves, so a stretch with many
  sharp topic changes still gets all of them.
* **Time gaps**: a pause between consecutive turns longer than ``time_gap``.
* **Forced starts**: indices the caller knows are starts, such as session starts.

Time gaps and forced starts are *hard* boundaries: they split the stream into blocks that are
segmented independently, with statistics computed per block. Segmenting a whole conversation
with its session starts forced therefore gives the same episodes as segmenting each session on
its own, and appending a new session never moves an old episode boundary.

Episodes longer than ``max_turns`` are split at their deepest valley.
"""

from __future__ import annotations

import bisect
import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

__all__ = ["EpisodeSegmenter", "SegmenterConfig", "depth_scores", "gap_similarity"]

logger = logging.getLogger(__name__)

# Scales the median absolute deviation to the standard deviation of normally distributed data.
_MAD_TO_STD = 1.4826


@dataclass(frozen=True)
class SegmenterConfig:
    """Tunable settings of :class:`EpisodeSegmenter`.

    Attributes:
        windows: sizes (in turns) of the running window before a gap and of the block after
            it. Depth scores are averaged over all sizes: small windows locate a shift
            precisely, large ones see shifts that build up over several turns.
        decay: weight factor per turn of distance from the gap inside a window
            (``decay ** distance``), so the turns nearest the gap count most. ``1.0`` gives a
            plain mean.
        threshold_z: a gap is a topic boundary when its depth score exceeds
            ``median + threshold_z * 1.4826 * MAD`` of the depth scores of its block (a robust
            z-score; 1.4826 * MAD estimates the standard deviation of normal data). Higher
            means fewer, stronger boundaries.
        min_depth: absolute floor on the depth score (cosine-similarity units) of a topic
            boundary, so an evenly flowing stretch of conversation is not cut just because
            some valley is relatively the deepest.
        strong_depth: a depth score at or above this is a topic boundary whatever the block's
            statistics. A short session has too few gaps for a reliable median and MAD, and
            its natural turn-to-turn variation can hide even a sharp change of subject.
        min_turns: fewest turns in an episode created by a topic boundary. Hard boundaries
            (time gaps, forced starts) may create shorter episodes.
        max_turns: most turns in an episode; longer ones are split at their deepest valley.
            ``None`` disables the limit. Must be at least ``2 * min_turns``.
        time_gap: a pause between consecutive turns longer than this starts a new episode.
            ``None`` disables the check.

    The defaults were chosen for chat dialogue embedded with all-MiniLM-L6-v2: windows of 2,
    4 and 8 turns cover one exchange up to a whole sub-topic; a decay of 0.8 favours the turns
    next to the gap; a robust z-score above 3 is the textbook outlier rule; a depth of 0.5
    (the similarity falling by about 0.25 on each side) is a change of subject in any
    context; 4 turns (two exchanges) is the shortest exchange worth an episode; 40 turns
    bounds the context one episode carries; 30 minutes of silence is the usual session
    cut-off for chat logs. Segmenting LoCoMo sessions (about 20 turns each) one by one, they
    give about two episodes per session, of about 10 turns.
    """

    windows: tuple[int, ...] = (2, 4, 8)
    decay: float = 0.8
    threshold_z: float = 3.0
    min_depth: float = 0.1
    strong_depth: float = 0.5
    min_turns: int = 4
    max_turns: int | None = 40
    time_gap: timedelta | None = field(default=timedelta(minutes=30))

    def __post_init__(self) -> None:
        """Validate the settings.

        Raises:
            ValueError: a setting is out of range.
        """
        if not self.windows or any(int(w) < 1 for w in self.windows):
            raise ValueError(f"windows must be non-empty positive sizes, got {self.windows!r}")
        if not 0.0 < self.decay <= 1.0:
            raise ValueError(f"decay must be in (0, 1], got {self.decay}")
        if self.min_depth < 0.0:
            raise ValueError(f"min_depth must be >= 0, got {self.min_depth}")
        if self.strong_depth < self.min_depth:
            raise ValueError(
                f"strong_depth ({self.strong_depth}) must be >= min_depth ({self.min_depth})"
            )
        if self.min_turns < 1:
            raise ValueError(f"min_turns must be >= 1, got {self.min_turns}")
        if self.max_turns is not None and self.max_turns < 2 * self.min_turns:
            raise ValueError(
                f"max_turns ({self.max_turns}) must be at least 2 * min_turns ({self.min_turns})"
            )
        if self.time_gap is not None and self.time_gap <= timedelta(0):
            raise ValueError(f"time_gap must be positive, got {self.time_gap}")


def gap_similarity(embeddings: np.ndarray, window: int, decay: float = 1.0) -> np.ndarray:
    """Cosine similarity across every gap between the windows before and after it.

    Args:
        embeddings: ``(n, d)`` turn embeddings in order.
        window: turns on each side of a gap.
        decay: weight ``decay ** distance`` of a turn ``distance`` turns away from the gap.

    Returns:
        Array of length ``n - 1``; entry ``g - 1`` compares turns ``[g - window, g)`` with
        turns ``[g, g + window)`` (clipped at the ends). A zero-norm side gives similarity 1.
    """
    emb = np.asarray(embeddings, dtype=np.float64)
    n = emb.shape[0]
    if n < 2:
        return np.zeros(0, dtype=np.float64)
    left = np.zeros((n - 1, emb.shape[1]))
    right = np.zeros((n - 1, emb.shape[1]))
    for a in range(min(window, n - 1)):
        weight = decay**a
        # Gap g (row g - 1) sees turn g - 1 - a on the left and turn g + a on the right.
        left[a:] += weight * emb[: n - 1 - a]
        right[: n - 1 - a] += weight * emb[1 + a :]
    left_norm = np.linalg.norm(left, axis=1)
    right_norm = np.linalg.norm(right, axis=1)
    denom = left_norm * right_norm
    sims = np.ones(n - 1)
    ok = denom > 1e-12
    sims[ok] = np.einsum("ij,ij->i", left[ok], right[ok]) / denom[ok]
    return np.clip(sims, -1.0, 1.0)


def depth_scores(similarity: np.ndarray) -> np.ndarray:
    """TextTiling depth score of every point of a similarity curve.

    The depth of point ``i`` is ``(left_peak - s[i]) + (right_peak - s[i])`` where each peak
    is reached by climbing from ``i`` while the curve does not fall.

    Args:
        similarity: 1-D similarity curve.

    Returns:
        Non-negative array of the same length.
    """
    s = np.asarray(similarity, dtype=np.float64)
    m = s.shape[0]
    if m == 0:
        return np.zeros(0)
    left_peak = s.copy()
    for i in range(1, m):
        if s[i - 1] >= s[i]:
            left_peak[i] = left_peak[i - 1]
    right_peak = s.copy()
    for i in range(m - 2, -1, -1):
        if s[i + 1] >= s[i]:
            right_peak[i] = right_peak[i + 1]
    return (left_peak - s) + (right_peak - s)


class EpisodeSegmenter:
    """Deterministic episode segmentation of a turn stream (see the module docstring).

    Args:
        config: the settings; the defaults suit chat-style dialogue embedded with a
            sentence-transformers model such as all-MiniLM-L6-v2.

    Example:
        >>> seg = EpisodeSegmenter()
        >>> seg.boundaries(np.eye(3, dtype=np.float32))
        [0]
    """

    def __init__(self, config: SegmenterConfig = SegmenterConfig()) -> None:
        self.config = config

    def boundaries(
        self,
        embeddings: np.ndarray,
        times: Sequence[datetime | None] | None = None,
        forced: Iterable[int] = (),
    ) -> list[int]:
        """Return the sorted start indices of the episodes.

        A boundary is placed where the topic shifts (the similarity between a running window
        of previous turns and the following turns drops into a deep valley), where the time
        between consecutive turns exceeds ``config.time_gap``, and at every index in
        ``forced`` (session starts).

        Args:
            embeddings: ``(n, d)`` L2-normalised float turn embeddings, in turn order.
            times: optional time of every turn (``None`` where unknown); a gap is measured
                only between two consecutive known times. Naive and aware datetimes must not
                be mixed.
            forced: indices that always start an episode; ``0`` and duplicates are allowed.

        Returns:
            Sorted start indices, always beginning with ``0`` for non-empty input; ``[]`` for
            empty input.

        Raises:
            ValueError: ``embeddings`` is not 2-D or not finite, ``times`` has the wrong
                length, or a forced index lies outside ``[0, n)``.
        """
        emb = np.asarray(embeddings, dtype=np.float64)
        if emb.ndim != 2:
            raise ValueError(f"embeddings must be a 2-D (n, d) array, got shape {emb.shape}")
        if not np.isfinite(emb).all():
            raise ValueError("embeddings contain NaN or infinite values")
        n = emb.shape[0]
        hard = self._hard_boundaries(n, times, forced)
        if n == 0:
            return []

        starts: set[int] = set(hard)
        edges = [*hard, n]
        for lo, hi in itertools.pairwise(edges):
            starts.update(lo + b for b in self._segment_block(emb[lo:hi]))
        result = sorted(starts)
        logger.debug(
            "segmented %d turns into %d episodes (%d hard boundaries)", n, len(result), len(hard)
        )
        return result

    def _hard_boundaries(
        self, n: int, times: Sequence[datetime | None] | None, forced: Iterable[int]
    ) -> list[int]:
        """Return the sorted hard starts: 0, forced indices and time-gap starts."""
        hard = {0} if n else set()
        for raw in forced:
            i = int(raw)
            if i < 0 or i >= n:
                raise ValueError(f"forced boundary {i} is outside [0, {n})")
            hard.add(i)
        if times is not None:
            if len(times) != n:
                raise ValueError(f"times has {len(times)} entries for {n} embeddings")
            gap = self.config.time_gap
            if gap is not None:
                previous: datetime | None = None
                for i, t in enumerate(times):
                    if t is None:
                        continue
                    if previous is not None and t - previous > gap:
                        hard.add(i)
                    previous = t
        return sorted(hard)

    def _depth(self, emb: np.ndarray) -> np.ndarray:
        """Depth score of every gap of a block, averaged over the window sizes."""
        cfg = self.config
        return np.mean(
            [depth_scores(gap_similarity(emb, int(w), cfg.decay)) for w in cfg.windows], axis=0
        )

    def _segment_block(self, emb: np.ndarray) -> list[int]:
        """Topic boundaries inside one block with no hard boundary, relative to the block."""
        cfg = self.config
        n = emb.shape[0]
        starts = [0]  # kept sorted
        if n < 2 * cfg.min_turns:
            return starts
        depth = self._depth(emb)
        median = float(np.median(depth))
        spread = _MAD_TO_STD * float(np.median(np.abs(depth - median)))
        cutoff = min(cfg.strong_depth, max(cfg.min_depth, median + cfg.threshold_z * spread))
        # Deepest valleys first; ties go to the earlier gap (stable sort) for determinism.
        for g in np.argsort(-depth, kind="stable"):
            if depth[g] < cutoff or depth[g] <= cfg.min_depth:
                break
            self._try_add(starts, int(g) + 1, n)
        if cfg.max_turns is not None and n > cfg.max_turns:
            starts = self._split_long(starts, depth, n)
        return starts

    def _try_add(self, starts: list[int], b: int, n: int) -> bool:
        """Insert start ``b`` into sorted ``starts`` if every episode keeps ``min_turns``."""
        m = self.config.min_turns
        at = bisect.bisect_left(starts, b)
        before = starts[at - 1] if at > 0 else -m
        after = starts[at] if at < len(starts) else n
        if b - before < m or after - b < m:
            return False
        starts.insert(at, b)
        return True

    def _split_long(self, starts: list[int], depth: np.ndarray, n: int) -> list[int]:
        """Split every episode longer than ``max_turns`` at its deepest admissible gap."""
        cfg = self.config
        max_turns = cfg.max_turns if cfg.max_turns is not None else n
        m = cfg.min_turns
        pending = list(zip(starts, [*starts[1:], n]))
        result: list[int] = []
        while pending:
            lo, hi = pending.pop()
            if hi - lo <= max_turns:
                result.append(lo)
                continue
            # Gaps g with lo + m <= g + 1 <= hi - m keep both halves at least min_turns long.
            candidates = np.arange(lo + m - 1, hi - m)
            # Deepest gap; ties go to the one nearest the middle so flat stretches split evenly.
            middle = (lo + hi) / 2.0
            # Rounding keeps float noise on a flat curve from deciding between equal gaps.
            local = np.round(depth[candidates], 9)
            order = np.lexsort((np.abs(candidates + 1 - middle), -local))
            cut = int(candidates[order[0]]) + 1
            pending.append((lo, cut))
            pending.append((cut, hi))
        return sorted(set(result))
