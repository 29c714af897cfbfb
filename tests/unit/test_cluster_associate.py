"""Association decisions: the vectorised 1-D EM, the GMM decision and every fallback."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture

from graphmem.cluster.associate import (
    METHOD_FALLBACK_FEW,
    METHOD_FALLBACK_FLAT,
    METHOD_FALLBACK_UNSEPARATED,
    METHOD_GMM,
    AssociationConfig,
    Gmm1dFit,
    _kmeans_init,
    _masked_moments,
    _monotone_posteriors,
    associate,
    associate_batch,
    fit_gmm_1d,
)


def _bimodal(rng: np.random.Generator, n_hi: int = 8, n_lo: int = 22) -> np.ndarray:
    hi = rng.normal(0.72, 0.04, n_hi)
    lo = rng.normal(0.35, 0.05, n_lo)
    return np.concatenate([hi, lo])


def _sklearn_fit(x: np.ndarray, **kwargs) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    gmm = GaussianMixture(n_components=2, random_state=0, **kwargs).fit(x[:, None])
    order = np.argsort(gmm.means_.ravel())
    post = gmm.predict_proba(x[:, None])[:, order[1]]
    return (
        gmm.means_.ravel()[order],
        gmm.covariances_.ravel()[order],
        gmm.weights_[order],
        post,
    )


def test_em_matches_sklearn_on_separated_scores():
    rng = np.random.default_rng(7)
    rows = np.stack([_bimodal(rng) for _ in range(20)])
    fit = fit_gmm_1d(rows, tol=1e-8, max_iter=500)
    assert fit.converged.all()
    for i, row in enumerate(rows):
        means, variances, weights, post = _sklearn_fit(row, tol=1e-8, max_iter=500)
        np.testing.assert_allclose(fit.means[i], means, atol=1e-6)
        np.testing.assert_allclose(fit.variances[i], variances, rtol=1e-4)
        np.testing.assert_allclose(fit.weights[i], weights, atol=1e-6)
        np.testing.assert_allclose(fit.posteriors[i], post, atol=1e-5)


def test_em_follows_sklearn_exactly_from_the_same_start():
    # on overlapping scores EM has several optima; started from the same parameters both
    # implementations must walk the same path to the same one
    rng = np.random.default_rng(3)
    rows = np.sort(rng.normal(0.45, 0.1, (15, 30)), axis=1)[:, ::-1]
    mask = np.ones_like(rows, dtype=bool)
    w0, mu0, var0 = _masked_moments(rows, _kmeans_init(rows, mask), 1e-6)
    fit = fit_gmm_1d(rows, tol=1e-9, max_iter=1000)
    for i, row in enumerate(rows):
        gmm = GaussianMixture(
            n_components=2,
            tol=1e-9,
            max_iter=1000,
            weights_init=w0[i],
            means_init=mu0[i][:, None],
            precisions_init=(1.0 / var0[i])[:, None, None],
        ).fit(row[:, None])
        order = np.argsort(gmm.means_.ravel())
        np.testing.assert_allclose(fit.means[i], gmm.means_.ravel()[order], atol=1e-6)
        np.testing.assert_allclose(fit.weights[i], gmm.weights_[order], atol=1e-6)
        np.testing.assert_allclose(
            fit.posteriors[i], gmm.predict_proba(row[:, None])[:, order[1]], atol=1e-5
        )


def test_rows_fit_independently_of_their_batch():
    rng = np.random.default_rng(11)
    rows = np.stack([_bimodal(rng) for _ in range(6)])
    together = fit_gmm_1d(rows)
    for i in range(rows.shape[0]):
        alone = fit_gmm_1d(rows[i])
        np.testing.assert_allclose(alone.means[0], together.means[i], atol=1e-12)
        assert alone.n_iter[0] == together.n_iter[i]


def test_gmm_accepts_the_high_cluster():
    rng = np.random.default_rng(5)
    scores = _bimodal(rng)
    res = associate(scores, AssociationConfig(max_links=30))
    assert res.method == METHOD_GMM
    assert res.accepted_mask[:8].all() and not res.accepted_mask[8:].any()
    assert np.all(res.weights[:8] >= 0.5) and np.all(res.weights[8:] == 0)


def _fixed_fit(variances: list[float]) -> Gmm1dFit:
    return Gmm1dFit(
        means=np.array([[0.3, 0.7]]),
        variances=np.array([variances]),
        weights=np.array([[0.7, 0.3]]),
        posteriors=np.zeros((1, 1)),
        n_iter=np.zeros(1, dtype=np.int64),
        converged=np.ones(1, dtype=bool),
        log_likelihood=np.zeros(1),
    )


def _raw_posterior(x: np.ndarray, fit: Gmm1dFit) -> np.ndarray:
    log_p = (
        np.log(fit.weights)
        - 0.5 * np.log(fit.variances)
        - 0.5 * (x[0][:, None] - fit.means) ** 2 / fit.variances
    )
    return np.exp(log_p[:, 1] - np.logaddexp(log_p[:, 0], log_p[:, 1]))[None, :]


@pytest.mark.parametrize(
    ("variances", "artefact"),
    [
        ([0.02, 0.0001], "tight related component: the raw posterior calls 0.95 unrelated"),
        ([0.0001, 0.02], "tight unrelated component: the raw posterior calls 0.0 related"),
    ],
)
def test_posterior_is_monotone_in_the_score(variances, artefact):
    fit = _fixed_fit(variances)
    x = np.array([[0.0, 0.3, 0.5, 0.68, 0.7, 0.72, 0.95]])
    raw = _raw_posterior(x, fit)
    assert not np.all(np.diff(raw[0]) >= 0), artefact
    mono = _monotone_posteriors(x, np.ones_like(x, dtype=bool), raw, fit)
    assert np.all(np.diff(mono[0]) >= 0)
    assert mono[0, -1] >= raw[0, 4]  # at least the posterior at the related mean
    assert mono[0, 0] <= raw[0, 1]  # at most the posterior at the unrelated mean
    np.testing.assert_allclose(mono[0, 1:5], raw[0, 1:5])  # untouched between the means


def test_fallback_too_few_candidates(caplog):
    config = AssociationConfig(min_candidates=8, fallback_threshold=0.6)
    scores = np.array([0.9, 0.65, 0.59, 0.2])
    with caplog.at_level(logging.INFO, logger="graphmem.cluster.associate"):
        res = associate(scores, config)
    assert res.method == METHOD_FALLBACK_FEW
    assert res.accepted_mask.tolist() == [True, True, False, False]
    np.testing.assert_allclose(res.weights, [0.9, 0.65, 0.0, 0.0])
    assert "fallback_few" in caplog.text


def test_fallback_equal_scores(caplog):
    with caplog.at_level(logging.INFO, logger="graphmem.cluster.associate"):
        low = associate(np.full(20, 0.5), AssociationConfig(max_links=10))
        high = associate(np.full(20, 0.7), AssociationConfig(max_links=10))
    assert low.method == high.method == METHOD_FALLBACK_FLAT
    assert not low.accepted_mask.any()
    # all pass the fixed threshold; max_links keeps the first ten (ties keep input order)
    assert high.accepted_mask.tolist() == [True] * 10 + [False] * 10
    assert "fallback_flat" in caplog.text


def test_fallback_unseparated_components(caplog):
    scores = np.linspace(0.62, 0.58, 20)  # one narrow bump: any split is meaningless
    with caplog.at_level(logging.INFO, logger="graphmem.cluster.associate"):
        res = associate(scores, AssociationConfig(max_links=30))
    assert res.method == METHOD_FALLBACK_UNSEPARATED
    assert res.accepted_mask.tolist() == (scores >= 0.6).tolist()
    assert "fallback_unseparated" in caplog.text


def test_min_score_floor_and_max_links():
    rng = np.random.default_rng(9)
    scores = _bimodal(rng, n_hi=8) - 0.4  # the related cluster now sits around 0.32
    res = associate(scores, AssociationConfig(min_score=0.3, max_links=30))
    assert res.method == METHOD_GMM
    assert np.all(scores[res.accepted_mask] >= 0.3)
    assert res.accepted_mask.sum() < 8
    unfloored = associate(scores, AssociationConfig(min_score=0.0, max_links=30))
    assert unfloored.accepted_mask.sum() == 8
    capped = associate(_bimodal(rng, n_hi=8), AssociationConfig(max_links=3))
    assert capped.accepted_mask.sum() == 3


def test_batch_links_and_determinism():
    rng = np.random.default_rng(4)
    rows = [_bimodal(rng) for _ in range(5)] + [np.array([0.8, 0.3])]
    ids = [[f"u{i}-c{j}" for j in range(len(r))] for i, r in enumerate(rows)]
    grans = [["event" if j % 2 else "turn" for j in range(len(r))] for r in rows]
    config = AssociationConfig(max_links=10)
    first = associate_batch(ids, rows, config, candidate_granularities=grans, chunk_size=4)
    second = associate_batch(ids, rows, config, candidate_granularities=grans, chunk_size=4)
    assert first == second
    by_unit = {}
    for link in first:
        by_unit.setdefault(link.src_index, []).append(link)
    assert sorted(by_unit) == [0, 1, 2, 3, 4, 5]
    assert {link.method for link in by_unit[5]} == {METHOD_FALLBACK_FEW}
    assert [link.candidate_id for link in by_unit[5]] == ["u5-c0"]
    for unit in range(5):
        assert {link.candidate_id for link in by_unit[unit]} == {f"u{unit}-c{j}" for j in range(8)}
        weights = [link.weight for link in by_unit[unit]]
        assert weights == sorted(weights, reverse=True)
    assert {link.granularity for link in first} == {"turn", "event"}


def test_batch_drops_self_matches_and_accepts_padded_arrays():
    scores = np.array([[0.99, 0.8, 0.3, np.nan], [0.9, 0.1, np.nan, np.nan]])
    ids = np.array([["a", "b", "c", ""], ["a", "x", "", ""]])
    links = associate_batch(ids, scores, src_ids=["a", "b"])
    assert [(link.src_index, link.candidate_id) for link in links] == [(0, "b"), (1, "a")]


def test_misaligned_input_is_rejected():
    with pytest.raises(ValueError, match="ids but"):
        associate_batch([["a", "b"]], [[0.5]])
    with pytest.raises(ValueError, match="one-dimensional"):
        associate(np.ones((2, 2)))
    with pytest.raises(ValueError, match="min_candidates"):
        AssociationConfig(min_candidates=1)


def test_row_quantiles_are_numpys_nanquantile_bit_for_bit():
    """The k-means start of the score mixtures takes each row's quartiles in one pass; they are
    exactly ``np.nanquantile`` of the row's valid scores (ties and rounded scores included)."""
    from graphmem.cluster.associate import _row_quantiles

    rng = np.random.default_rng(1)
    for trial in range(200):
        rows, width = int(rng.integers(1, 40)), int(rng.integers(2, 60))
        x = rng.normal(size=(rows, width)) if trial % 3 else np.round(rng.random((rows, width)), 1)
        mask = rng.random((rows, width)) < rng.random()
        mask[mask.sum(axis=1) < 2, :2] = True
        expected = np.nanquantile(np.where(mask, x, np.nan), [0.25, 0.75], axis=1).T
        assert np.array_equal(_row_quantiles(x, mask, (0.25, 0.75)), expected), trial
