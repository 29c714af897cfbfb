"""Tests for episode segmentation (graphmem.ingest.segment) and its metrics (eval.segmentation)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from graphmem.eval.segmentation import (
    default_k,
    fixed_window_boundaries,
    pk,
    segmentation_benchmark,
    window_diff,
)
from graphmem.ingest.segment import (
    EpisodeSegmenter,
    SegmenterConfig,
    depth_scores,
    gap_similarity,
)


def topic_stream(
    lengths: list[int], dim: int = 32, noise: float = 0.15, seed: int = 0
) -> np.ndarray:
    """Unit vectors around one axis per topic: turns of the same topic are similar, others not."""
    rng = np.random.default_rng(seed)
    blocks = []
    for topic, length in enumerate(lengths):
        base = np.zeros(dim)
        base[topic % dim] = 1.0
        blocks.append(base + noise * rng.standard_normal((length, dim)))
    emb = np.vstack(blocks)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return emb.astype(np.float32)


def starts_of(lengths: list[int]) -> list[int]:
    return [int(x) for x in np.cumsum([0, *lengths[:-1]])]


# --- building blocks -------------------------------------------------------------------------


def test_gap_similarity_window_one_is_cosine_of_neighbours() -> None:
    e0, e1 = np.eye(2)
    emb = np.array([e0, e0, e1, e1])
    np.testing.assert_allclose(gap_similarity(emb, window=1), [1.0, 0.0, 1.0])


def test_gap_similarity_decay_weights_nearest_turns() -> None:
    e0, e1 = np.eye(2)
    emb = np.array([e1, e0, e0])
    # Gap 2: left = 1.0 * e0 + 0.5 * e1, right = e0 -> cos = 1 / sqrt(1.25).
    sims = gap_similarity(emb, window=2, decay=0.5)
    assert sims[1] == pytest.approx(1.0 / np.sqrt(1.25))
    # Gap 1: left = e1, right = e0 + 0.5 e0 -> orthogonal.
    assert sims[0] == pytest.approx(0.0)


def test_depth_scores_hand_computed() -> None:
    depth = depth_scores(np.array([0.9, 0.2, 0.5, 0.1, 0.8]))
    np.testing.assert_allclose(depth, [0.0, 1.0, 0.0, 1.1, 0.0], atol=1e-12)
    assert depth_scores(np.array([])).shape == (0,)


# --- the segmenter ---------------------------------------------------------------------------


def test_topic_shifts_are_found() -> None:
    seg = EpisodeSegmenter()
    assert seg.boundaries(topic_stream([10, 10, 10])) == [0, 10, 20]
    assert seg.boundaries(topic_stream([6, 14, 10], seed=1)) == [0, 6, 20]


def test_many_sharp_shifts_all_found() -> None:
    # A third of all gaps are boundaries; a mean/std threshold would be inflated by them.
    seg = EpisodeSegmenter()
    assert seg.boundaries(topic_stream([4, 4, 4, 4, 4])) == [0, 4, 8, 12, 16]


def test_min_turns_respected() -> None:
    emb = topic_stream([2, 2, 2, 2, 2, 2, 2, 2])
    starts = EpisodeSegmenter(SegmenterConfig(min_turns=4)).boundaries(emb)
    lengths = np.diff([*starts, len(emb)])
    assert starts[0] == 0
    assert lengths.min() >= 4


def test_identical_embeddings_give_one_episode() -> None:
    emb = np.tile(np.eye(8, dtype=np.float32)[0], (30, 1))
    assert EpisodeSegmenter().boundaries(emb) == [0]


def test_max_turns_splits_evenly_when_flat() -> None:
    emb = np.tile(np.eye(8, dtype=np.float32)[0], (100, 1))
    # (0, 100) splits at 50, then each half splits at its middle.
    assert EpisodeSegmenter(SegmenterConfig(max_turns=40)).boundaries(emb) == [0, 25, 50, 75]
    assert EpisodeSegmenter(SegmenterConfig(max_turns=None)).boundaries(emb) == [0]


def test_max_turns_splits_at_topic_valley() -> None:
    emb = topic_stream([14, 16])
    # Threshold high enough that only the length limit can cut.
    cfg = SegmenterConfig(threshold_z=1e9, max_turns=20, min_turns=4)
    assert EpisodeSegmenter(cfg).boundaries(emb) == [0, 14]


@pytest.mark.parametrize(
    ("n", "forced", "expected"),
    [(0, (), []), (1, (), [0]), (2, (), [0]), (2, (1,), [0, 1]), (3, (0, 0, 2), [0, 2])],
)
def test_degenerate_sizes(n: int, forced: tuple[int, ...], expected: list[int]) -> None:
    emb = topic_stream([n]) if n else np.zeros((0, 32), dtype=np.float32)
    assert EpisodeSegmenter().boundaries(emb, forced=forced) == expected


def test_forced_boundaries_honoured_even_when_short() -> None:
    emb = np.tile(np.eye(8, dtype=np.float32)[0], (10, 1))
    assert EpisodeSegmenter().boundaries(emb, forced=[3, 9, 3]) == [0, 3, 9]


def test_time_gap_forces_boundary() -> None:
    emb = np.tile(np.eye(8, dtype=np.float32)[0], (10, 1))
    t0 = datetime(2024, 5, 1, 9, 0)
    times: list[datetime | None] = [t0 + timedelta(minutes=i) for i in range(10)]
    seg = EpisodeSegmenter()
    assert seg.boundaries(emb, times=times) == [0]
    jumped = [t if i < 6 else t + timedelta(hours=2) for i, t in enumerate(times)]
    assert seg.boundaries(emb, times=jumped) == [0, 6]
    # Unknown times are skipped: the gap is measured between the nearest known times.
    jumped[6] = None
    assert seg.boundaries(emb, times=jumped) == [0, 7]
    # A pause shorter than time_gap is not a boundary; time_gap=None disables the check.
    short = [t if i < 6 else t + timedelta(minutes=20) for i, t in enumerate(times)]
    assert seg.boundaries(emb, times=short) == [0]
    assert EpisodeSegmenter(SegmenterConfig(time_gap=None)).boundaries(emb, times=jumped) == [0]


def test_sessions_are_segmented_independently() -> None:
    lengths = [10, 9, 12, 8, 11]
    emb = topic_stream(lengths, seed=3)
    sessions = [0, 19, 39]
    seg = EpisodeSegmenter(SegmenterConfig(min_turns=3))
    together = seg.boundaries(emb, forced=sessions)
    one_by_one: list[int] = []
    for lo, hi in zip(sessions, [*sessions[1:], len(emb)]):
        one_by_one.extend(lo + b for b in seg.boundaries(emb[lo:hi]))
    assert together == one_by_one
    assert set(sessions) <= set(together)
    # Appending a session leaves earlier episodes untouched.
    assert seg.boundaries(emb[:39], forced=sessions[:2]) == [b for b in together if b < 39]


def test_deterministic_and_dtype_independent() -> None:
    emb = topic_stream([7, 11, 9, 13], seed=5)
    seg = EpisodeSegmenter()
    first = seg.boundaries(emb)
    assert first == seg.boundaries(emb.copy())
    assert first == EpisodeSegmenter().boundaries(emb.astype(np.float64))


def test_bad_input_rejected() -> None:
    seg = EpisodeSegmenter()
    with pytest.raises(ValueError, match="2-D"):
        seg.boundaries(np.zeros(5))
    with pytest.raises(ValueError, match="outside"):
        seg.boundaries(topic_stream([5]), forced=[5])
    with pytest.raises(ValueError, match="times"):
        seg.boundaries(topic_stream([5]), times=[None] * 4)
    bad = topic_stream([5])
    bad[2, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        seg.boundaries(bad)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"windows": ()},
        {"windows": (0, 2)},
        {"decay": 0.0},
        {"min_depth": -0.1},
        {"min_depth": 0.3, "strong_depth": 0.2},
        {"min_turns": 0},
        {"min_turns": 5, "max_turns": 9},
        {"time_gap": timedelta(0)},
    ],
)
def test_config_validation(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        SegmenterConfig(**kwargs)


# --- metrics ---------------------------------------------------------------------------------


def test_identical_segmentations_score_zero() -> None:
    ref = [0, 4, 9, 15]
    assert pk(ref, ref, 20) == 0.0
    assert window_diff(ref, ref, 20) == 0.0
    assert pk(ref, [4, 9, 15], 20) == 0.0  # 0 is implied


def test_hand_computed_near_miss() -> None:
    # n=10, k=2: the probes (3, 5) and (5, 7) disagree -> 2 of 8.
    assert pk([0, 5], [0, 6], 10, k=2) == pytest.approx(0.25)
    assert window_diff([0, 5], [0, 6], 10, k=2) == pytest.approx(0.25)


def test_window_diff_penalises_extra_boundary_more_than_pk() -> None:
    # Hypothesis adds a boundary at 4 next to the true one at 5.
    assert pk([0, 5], [0, 4, 5], 10, k=2) == pytest.approx(1 / 8)
    assert window_diff([0, 5], [0, 4, 5], 10, k=2) == pytest.approx(2 / 8)


def test_all_wrong_and_default_k() -> None:
    assert default_k([0], 10) == 5
    assert default_k([0, 10], 20) == 5
    assert default_k([0, 3, 6], 10) == 2
    assert pk([0], list(range(10)), 10) == 1.0
    assert window_diff([0], list(range(10)), 10) == 1.0


def test_metric_edge_cases() -> None:
    assert pk([0], [0], 1) == 0.0
    assert window_diff([], [], 0) == 0.0
    with pytest.raises(ValueError, match="outside"):
        pk([0, 10], [0], 10)
    with pytest.raises(ValueError, match="k must be"):
        window_diff([0], [0], 10, k=0)


def test_fixed_window_boundaries() -> None:
    assert fixed_window_boundaries(10, 3) == [0, 3, 7]
    assert fixed_window_boundaries(10, 1) == [0]
    assert fixed_window_boundaries(5, 10) == [0, 1, 2, 3, 4]
    assert fixed_window_boundaries(0, 3) == []
    assert fixed_window_boundaries(10, 2, offset=2) == [0, 7]


def test_benchmark_scores_segmenter_and_equal_count_baseline() -> None:
    lengths = [6, 14, 10]
    emb = topic_stream(lengths, seed=1)
    result = segmentation_benchmark([(emb, starts_of(lengths))])
    row = result["conversations"][0]
    assert row["n"] == 30
    assert row["k"] == 5
    assert row["segments"] == 3
    assert row["reference_segments"] == 3
    assert row["segmenter"] == {"pk": 0.0, "window_diff": 0.0}
    expected = pk([0, 6, 20], [0, 10, 20], 30, k=5)
    assert expected > 0.0
    assert row["baseline"]["pk"] == pytest.approx(expected)
    assert result["mean"]["segmenter"]["pk"] == 0.0
    assert result["mean"]["baseline"]["pk"] == pytest.approx(expected)
    assert 0.0 < result["mean"]["baseline_phase_mean"]["pk"] <= 1.0
    assert segmentation_benchmark([]) == {"conversations": [], "mean": {}}


# --- with the real embedding model -----------------------------------------------------------


@pytest.fixture(scope="module")
def minilm():
    from graphmem.embed import Embedder

    return Embedder(precision="float32", batch_size=64)


@pytest.mark.slow
def test_real_model_topic_shift(minilm) -> None:
    cooking = [
        "Ann: I tried a new lasagna recipe last night.",
        "Bob: Nice, did you make the pasta sheets yourself?",
        "Ann: Yes, fresh pasta with semolina flour and eggs.",
        "Bob: What sauce did you use, bechamel or ricotta?",
        "Ann: Bechamel, and a slow-cooked tomato ragu with basil.",
        "Bob: I should bake one this weekend, my oven needs the exercise.",
    ]
    football = [
        "Ann: Did you watch the football match on Sunday?",
        "Bob: Yes, the striker scored twice in the second half.",
        "Ann: The goalkeeper saved a penalty in the last minute!",
        "Bob: Our team is top of the league table now.",
        "Ann: The coach changed the formation to three defenders.",
        "Bob: I bought tickets for the cup final next month.",
    ]
    texts = cooking + football
    emb = minilm.encode(texts)
    seg = EpisodeSegmenter(SegmenterConfig(min_turns=3))
    assert seg.boundaries(emb) == [0, 6]
    assert seg.boundaries(np.vstack([emb, emb[:6]])) == [0, 6, 12]
