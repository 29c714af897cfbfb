"""Association between memories (MemGAS-style).

For every new memory unit the caller looks up its top-N nearest historical units in the ANN
indexes (any mix of granularities) and hands over their cosine scores. A two-component
one-dimensional Gaussian mixture over those scores separates the *related* candidates (the
component with the higher mean) from the *unrelated* bulk; a candidate is accepted when its
posterior for the related component reaches ``posterior_threshold`` and the posterior becomes
the weight of the ``ASSOCIATED`` edge.

Fitting one :class:`sklearn.mixture.GaussianMixture` per unit costs about 4 ms of CPU (14 ms on
a busy 2-core machine), 20-80 s for the 5.6k units of the LoCoMo dev set, so this module carries
a small vectorised EM (:func:`fit_gmm_1d`) that fits one mixture per row of a padded score
matrix at once (0.08 ms per unit; the whole dev set in about 0.3 s). It follows sklearn's algorithm (hard k-means
initialisation, ``reg_covar``, the same convergence test on the mean log-likelihood) but
starts k-means deterministically from the quartiles instead of k-means++. On separated scores
both find the same mixture; on heavily overlapping ones EM has several optima and the two
starts may end in different ones (from the same start the two follow the same path).

Degenerate inputs fall back to a fixed absolute threshold on the cosine score (weight = the
score itself); every fallback is logged and recorded in the result's ``method``:

* ``"fallback_few"``: fewer than ``min_candidates`` candidates, too few to fit two components;
* ``"fallback_flat"``: the scores are (nearly) all equal, there is nothing to separate;
* ``"fallback_unseparated"``: the fitted components overlap (their means are closer than
  ``min_mean_gap`` or their separation index is below ``min_separation``), so the mixture does
  not describe a related/unrelated split.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

__all__ = [
    "METHOD_EMPTY",
    "METHOD_FALLBACK_FEW",
    "METHOD_FALLBACK_FLAT",
    "METHOD_FALLBACK_UNSEPARATED",
    "METHOD_GMM",
    "AssociationConfig",
    "AssociationLink",
    "AssociationResult",
    "Gmm1dFit",
    "associate",
    "associate_batch",
    "fit_gmm_1d",
]

logger = logging.getLogger(__name__)

METHOD_GMM = "gmm"
METHOD_FALLBACK_FEW = "fallback_few"
METHOD_FALLBACK_FLAT = "fallback_flat"
METHOD_FALLBACK_UNSEPARATED = "fallback_unseparated"
METHOD_EMPTY = "empty"

_LOG_2PI = float(np.log(2.0 * np.pi))
_EPS = 10.0 * np.finfo(np.float64).eps  # sklearn adds this to component masses


@dataclass(frozen=True)
class AssociationConfig:
    """Settings for :func:`associate` and :func:`associate_batch`.

    Attributes:
        top_n: How many nearest historical units the caller should fetch per new unit (used by
            the caller's ANN query; :func:`associate` scores whatever it is given). 30 gives
            the mixture enough of the unrelated bulk to model it.
        min_candidates: Fewest candidates the mixture is fitted on; below it the fixed
            threshold decides (``"fallback_few"``).
        posterior_threshold: Least posterior of the related component for acceptance.
        fallback_threshold: Cosine score a candidate needs when a fallback decides. 0.6 is
            roughly the median best match of a LoCoMo turn against earlier turns with
            all-MiniLM-L6-v2, i.e. clearly on-topic.
        min_score: Absolute floor: no candidate below it is ever accepted, whatever the
            mixture says (a unit with no related history still has a "top" cluster).
        max_links: Most accepted candidates per unit (strongest weight first, ties by score).
            Posteriors saturate near 1, so this mostly keeps the best-scoring ones; on the
            LoCoMo dev set the mixture accepts ~10 of 30 candidates per unit, and 5 keeps the
            ASSOCIATED edges at about five per unit.
        flat_tolerance: Score standard deviation below which the scores count as all equal.
        min_mean_gap: Least distance between the two component means for a valid split.
        min_separation: Least Ashman's D, ``|mu_h - mu_l| / sqrt((var_h + var_l) / 2)``, for a
            valid split. D > 2 means cleanly separated; 1 only rejects heavily overlapping
            components (on the dev set 95% of fits have D > 1.5).
        reg_covar: Added to each component variance, as in sklearn.
        max_iter: EM iterations at most.
        tol: EM stops when the mean log-likelihood improves by less than this (sklearn's test).
    """

    top_n: int = 30
    min_candidates: int = 8
    posterior_threshold: float = 0.5
    fallback_threshold: float = 0.6
    min_score: float = 0.3
    max_links: int = 5
    flat_tolerance: float = 1e-3
    min_mean_gap: float = 0.05
    min_separation: float = 1.0
    reg_covar: float = 1e-6
    max_iter: int = 100
    tol: float = 1e-3

    def __post_init__(self) -> None:
        if self.top_n < 1 or self.max_links < 1:
            raise ValueError("top_n and max_links must be at least 1")
        if self.min_candidates < 2:
            raise ValueError("min_candidates must be at least 2 to fit two components")
        if not 0.0 < self.posterior_threshold <= 1.0:
            raise ValueError("posterior_threshold must lie in (0, 1]")
        if self.reg_covar < 0 or self.tol <= 0 or self.max_iter < 1:
            raise ValueError("reg_covar must be >= 0, tol > 0 and max_iter >= 1")


class AssociationResult(NamedTuple):
    """The decision for one unit's candidates.

    Attributes:
        accepted_mask: Boolean array, one entry per candidate, True where accepted.
        weights: Edge weight per candidate (posterior of the related component, or the cosine
            score under a fallback); 0 where not accepted.
        method: ``"gmm"`` or the fallback that decided (see the module docstring), or
            ``"empty"`` when there were no candidates.
    """

    accepted_mask: np.ndarray
    weights: np.ndarray
    method: str


class AssociationLink(NamedTuple):
    """One accepted association, ready to become an ``ASSOCIATED`` edge.

    Attributes:
        src_index: Row of the new unit in the batch.
        candidate_id: The historical unit's id, as the caller passed it.
        weight: Edge weight in [0, 1].
        method: How it was decided (``"gmm"`` or a fallback name).
        granularity: The candidate's granularity when the caller passed granularities, else None.
    """

    src_index: int
    candidate_id: Hashable
    weight: float
    method: str
    granularity: str | None = None


class Gmm1dFit(NamedTuple):
    """Per-row parameters of a fitted two-component 1-D mixture, component 0 = lower mean.

    Attributes:
        means: Shape ``(B, 2)``.
        variances: Shape ``(B, 2)``, ``reg_covar`` included.
        weights: Shape ``(B, 2)``, mixing proportions.
        posteriors: Shape ``(B, N)``, posterior of the higher-mean component (0 at padding).
        n_iter: Shape ``(B,)``, EM iterations run per row.
        converged: Shape ``(B,)``.
        log_likelihood: Shape ``(B,)``, mean log-likelihood per valid sample.
    """

    means: np.ndarray
    variances: np.ndarray
    weights: np.ndarray
    posteriors: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    log_likelihood: np.ndarray


def _masked_moments(
    x: np.ndarray, resp: np.ndarray, reg_covar: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """M-step: weights, means, variances from responsibilities (resp is 0 at padding)."""
    nk = resp.sum(axis=1) + _EPS  # (B, 2)
    means = np.einsum("bnk,bn->bk", resp, x) / nk
    diff2 = (x[:, :, None] - means[:, None, :]) ** 2
    variances = np.einsum("bnk,bnk->bk", resp, diff2) / nk + reg_covar
    weights = nk / nk.sum(axis=1, keepdims=True)
    return weights, means, variances


def _e_step(
    x: np.ndarray, mask: np.ndarray, weights: np.ndarray, means: np.ndarray, variances: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """E-step: responsibilities (B, N, 2) and mean log-likelihood per row (B,)."""
    log_p = (
        np.log(weights)[:, None, :]
        - 0.5 * (_LOG_2PI + np.log(variances))[:, None, :]
        - 0.5 * (x[:, :, None] - means[:, None, :]) ** 2 / variances[:, None, :]
    )
    log_norm = np.logaddexp(log_p[:, :, 0], log_p[:, :, 1])  # (B, N)
    resp = np.exp(log_p - log_norm[:, :, None]) * mask[:, :, None]
    counts = mask.sum(axis=1)
    mean_ll = np.where(mask, log_norm, 0.0).sum(axis=1) / np.maximum(counts, 1)
    return resp, mean_ll


def _row_quantiles(x: np.ndarray, mask: np.ndarray, quantiles: tuple[float, ...]) -> np.ndarray:
    """``np.nanquantile(where(mask, x, nan), quantiles, axis=1).T`` for rows of at least two
    valid entries, bit for bit (numpy's ``linear`` method: the same virtual index and
    interpolation), without its Python loop over rows (0.07 s of an ingest's 0.12 s of
    association fits on LoCoMo dev)."""
    ordered = np.sort(np.where(mask, x, np.nan), axis=1)  # valid values first, ascending
    counts = mask.sum(axis=1)
    out = np.empty((x.shape[0], len(quantiles)))
    for j, q in enumerate(quantiles):
        virtual = counts * q + (1.0 - q) - 1  # numpy's _compute_virtual_index, alpha = beta = 1
        previous = np.floor(virtual)
        gamma = virtual - previous
        lower = np.take_along_axis(ordered, previous.astype(np.intp)[:, None], axis=1)[:, 0]
        upper = np.take_along_axis(ordered, (previous.astype(np.intp) + 1)[:, None], axis=1)[:, 0]
        diff = upper - lower
        out[:, j] = np.where(gamma >= 0.5, upper - diff * (1 - gamma), lower + diff * gamma)  # numpy's _lerp
    return out


def _kmeans_init(x: np.ndarray, mask: np.ndarray, n_steps: int = 30) -> np.ndarray:
    """Hard two-cluster 1-D k-means per row, started from the quartiles; returns (B, N, 2)."""
    centres = _row_quantiles(x, mask, (0.25, 0.75))  # (B, 2)
    upper = None
    for _ in range(n_steps):
        cut = centres.mean(axis=1, keepdims=True)
        new_upper = (x > cut) & mask
        if upper is not None and np.array_equal(new_upper, upper):
            break
        upper = new_upper
        lower = (~upper) & mask
        n_up = upper.sum(axis=1)
        n_lo = lower.sum(axis=1)
        sum_up = np.where(upper, x, 0.0).sum(axis=1)
        sum_lo = np.where(lower, x, 0.0).sum(axis=1)
        # keep the old centre where a side went empty (all-equal rows)
        centres = np.stack(
            [
                np.where(n_lo > 0, sum_lo / np.maximum(n_lo, 1), centres[:, 0]),
                np.where(n_up > 0, sum_up / np.maximum(n_up, 1), centres[:, 1]),
            ],
            axis=1,
        )
    lower = (~upper) & mask
    return np.stack([lower, upper], axis=2).astype(np.float64)


def fit_gmm_1d(
    scores: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    reg_covar: float = 1e-6,
    max_iter: int = 100,
    tol: float = 1e-3,
) -> Gmm1dFit:
    """Fit a two-component 1-D Gaussian mixture to every row of ``scores`` at once.

    Mirrors ``sklearn.mixture.GaussianMixture(n_components=2)``: hard k-means responsibilities
    initialise the parameters, EM runs until the mean log-likelihood improves by less than
    ``tol``, and the returned posteriors come from a final E-step. Initialisation is
    deterministic (quartile-seeded 1-D k-means), so no random state is needed. Each row stops
    iterating at its own convergence, so a row's result does not depend on the other rows in
    the batch.

    Args:
        scores: Shape ``(B, N)`` (or ``(N,)`` for a single row).
        mask: Boolean, same shape, True for real entries; padding is ignored. Defaults to all
            entries finite.
        reg_covar: Non-negative variance regularisation.
        max_iter: Most EM iterations.
        tol: Convergence tolerance on the mean log-likelihood.

    Returns:
        A :class:`Gmm1dFit`; components are ordered so column 0 has the lower mean. Rows with
        fewer than two valid entries get NaN parameters and zero posteriors.

    Raises:
        ValueError: If ``scores`` is not 1-D or 2-D or the mask shape differs.
    """
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)[None, :]
    if x.ndim != 2:
        raise ValueError(f"scores must be 1-D or 2-D, got shape {np.shape(scores)}")
    mask = np.isfinite(x) if mask is None else np.asarray(mask, dtype=bool) & np.isfinite(x)
    if mask.shape != x.shape:
        raise ValueError(f"mask shape {mask.shape} differs from scores shape {x.shape}")
    x = np.where(mask, x, 0.0)
    n_rows = x.shape[0]
    fit_rows = mask.sum(axis=1) >= 2

    means = np.full((n_rows, 2), np.nan)
    variances = np.full((n_rows, 2), np.nan)
    weights = np.full((n_rows, 2), np.nan)
    post = np.zeros_like(x)
    n_iter = np.zeros(n_rows, dtype=np.int64)
    converged = np.zeros(n_rows, dtype=bool)
    mean_ll = np.full(n_rows, np.nan)

    idx = np.flatnonzero(fit_rows)
    if idx.size:
        xs, ms = x[idx], mask[idx]
        w, mu, var = _masked_moments(xs, _kmeans_init(xs, ms), reg_covar)
        lower_bound = np.full(idx.size, -np.inf)
        active = np.ones(idx.size, dtype=bool)
        iters = np.zeros(idx.size, dtype=np.int64)
        for _ in range(max_iter):
            a = np.flatnonzero(active)
            if a.size == 0:
                break
            resp, ll = _e_step(xs[a], ms[a], w[a], mu[a], var[a])
            w[a], mu[a], var[a] = _masked_moments(xs[a], resp, reg_covar)
            iters[a] += 1
            done = np.abs(ll - lower_bound[a]) < tol
            lower_bound[a] = ll
            active[a[done]] = False
        resp, ll = _e_step(xs, ms, w, mu, var)
        swap = mu[:, 0] > mu[:, 1]
        order = np.where(swap[:, None], [1, 0], [0, 1])
        means[idx] = np.take_along_axis(mu, order, axis=1)
        variances[idx] = np.take_along_axis(var, order, axis=1)
        weights[idx] = np.take_along_axis(w, order, axis=1)
        post[idx] = np.where(swap[:, None], resp[:, :, 0], resp[:, :, 1])
        n_iter[idx] = iters
        converged[idx] = ~active
        mean_ll[idx] = ll
    return Gmm1dFit(means, variances, weights, post, n_iter, converged, mean_ll)


def _monotone_posteriors(
    x: np.ndarray, mask: np.ndarray, post: np.ndarray, fit: Gmm1dFit
) -> np.ndarray:
    """Make each row's posterior non-decreasing in the score.

    With unequal variances the posterior of the related component is not monotone in the
    score: the wider component wins both tails, so a very high score can look "unrelated" or a
    very low one "related". Between the two means it is monotone; beyond them the posterior is
    clipped to its value at the nearer mean and a running maximum over sorted scores removes
    what non-monotonicity is left, so a candidate scoring higher than an accepted one is
    always accepted too.
    """
    mu_lo, mu_hi = fit.means[:, :1], fit.means[:, 1:]
    at_lo = _posterior_at(mu_lo, fit)
    at_hi = _posterior_at(mu_hi, fit)
    p = np.where(x < mu_lo, np.minimum(post, at_lo), post)
    p = np.where(x > mu_hi, np.maximum(p, at_hi), p)
    key = np.where(mask, x, -np.inf)
    order = np.argsort(key, axis=1, kind="stable")
    p_sorted = np.maximum.accumulate(np.take_along_axis(p, order, axis=1), axis=1)
    out = np.empty_like(p)
    np.put_along_axis(out, order, p_sorted, axis=1)
    return np.where(mask, out, 0.0)


def _posterior_at(points: np.ndarray, fit: Gmm1dFit) -> np.ndarray:
    """Posterior of the higher-mean component at ``points``, shape (B, M)."""
    log_p = (
        np.log(fit.weights)[:, None, :]
        - 0.5 * np.log(fit.variances)[:, None, :]
        - 0.5 * (points[:, :, None] - fit.means[:, None, :]) ** 2 / fit.variances[:, None, :]
    )
    return np.exp(log_p[:, :, 1] - np.logaddexp(log_p[:, :, 0], log_p[:, :, 1]))


def _decide(
    scores: np.ndarray, mask: np.ndarray, config: AssociationConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised decision for a padded batch: (accepted (B,N), weights (B,N), methods (B,))."""
    x = np.where(mask, scores, 0.0)
    counts = mask.sum(axis=1)
    n_rows = x.shape[0]
    methods = np.full(n_rows, METHOD_GMM, dtype=object)
    methods[counts == 0] = METHOD_EMPTY

    few = (counts > 0) & (counts < config.min_candidates)
    safe = np.maximum(counts, 1)
    mean = x.sum(axis=1) / safe
    std = np.sqrt(np.where(mask, (x - mean[:, None]) ** 2, 0.0).sum(axis=1) / safe)
    flat = ~few & (counts > 0) & (std < config.flat_tolerance)
    methods[few] = METHOD_FALLBACK_FEW
    methods[flat] = METHOD_FALLBACK_FLAT

    weights = np.zeros_like(x)
    to_fit = np.flatnonzero(methods == METHOD_GMM)
    if to_fit.size:
        fit = fit_gmm_1d(
            x[to_fit],
            mask[to_fit],
            reg_covar=config.reg_covar,
            max_iter=config.max_iter,
            tol=config.tol,
        )
        gap = fit.means[:, 1] - fit.means[:, 0]
        spread = np.sqrt(0.5 * (fit.variances[:, 0] + fit.variances[:, 1]))
        separated = (gap >= config.min_mean_gap) & (gap / spread >= config.min_separation)
        post = _monotone_posteriors(x[to_fit], mask[to_fit], fit.posteriors, fit)
        weights[to_fit] = post
        methods[to_fit[~separated]] = METHOD_FALLBACK_UNSEPARATED
        accepted_gmm = mask & (weights >= config.posterior_threshold)
    else:
        accepted_gmm = np.zeros_like(mask)

    is_gmm = (methods == METHOD_GMM)[:, None]
    fallback_ok = mask & (x >= config.fallback_threshold)
    accepted = np.where(is_gmm, accepted_gmm, fallback_ok)
    accepted &= x >= config.min_score
    weights = np.where(is_gmm, weights, np.clip(x, 0.0, 1.0))
    weights = np.where(accepted, weights, 0.0)

    # keep the strongest max_links per row: by weight, ties broken by score
    too_many = accepted.sum(axis=1) > config.max_links
    if too_many.any():
        rows = np.flatnonzero(too_many)
        key = np.lexsort((-x[rows], -weights[rows]), axis=-1)  # primary: weight desc
        keep = np.zeros((rows.size, x.shape[1]), dtype=bool)
        np.put_along_axis(keep, key[:, : config.max_links], True, axis=1)
        accepted[rows] &= keep
        weights[rows] = np.where(accepted[rows], weights[rows], 0.0)
    return accepted, weights, methods


def _log_fallbacks(methods: np.ndarray) -> None:
    """Log how many units each fallback decided (one line per fallback kind)."""
    for name, why in (
        (METHOD_FALLBACK_FEW, "fewer candidates than min_candidates"),
        (METHOD_FALLBACK_FLAT, "scores (nearly) all equal"),
        (METHOD_FALLBACK_UNSEPARATED, "mixture components not separated"),
    ):
        n = int(np.count_nonzero(methods == name))
        if n:
            logger.info(
                "association fallback %s for %d of %d unit(s): %s; fixed threshold used",
                name,
                n,
                methods.size,
                why,
            )


def associate(scores: np.ndarray, config: AssociationConfig | None = None) -> AssociationResult:
    """Decide which of one unit's candidate memories it is associated with.

    Args:
        scores: Cosine similarities between the new unit and its candidates, shape ``(N,)``;
            NaN entries are ignored (never accepted).
        config: Settings; defaults to :class:`AssociationConfig()`.

    Returns:
        An :class:`AssociationResult` aligned with ``scores``.

    Raises:
        ValueError: If ``scores`` is not one-dimensional.

    Example:
        >>> res = associate(np.array([0.82, 0.79, 0.8, 0.31, 0.3, 0.28, 0.33, 0.29, 0.27, 0.32]))
        >>> res.method, res.accepted_mask[:4].tolist()
        ('gmm', [True, True, True, False])
    """
    config = config or AssociationConfig()
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"scores must be one-dimensional, got shape {x.shape}")
    accepted, weights, methods = _decide(x[None, :], np.isfinite(x)[None, :], config)
    _log_fallbacks(methods)
    return AssociationResult(accepted[0], weights[0], str(methods[0]))


def _pad(
    candidate_ids: Sequence[Sequence[Hashable]] | np.ndarray,
    candidate_scores: Sequence[Sequence[float]] | np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pad ragged per-unit score lists into a (B, N) matrix plus validity mask."""
    if isinstance(candidate_scores, np.ndarray) and candidate_scores.ndim == 2:
        scores = candidate_scores.astype(np.float64, copy=False)
        if len(candidate_ids) != scores.shape[0]:
            raise ValueError("candidate_ids and candidate_scores differ in number of units")
        return scores, np.isfinite(scores)
    if len(candidate_ids) != len(candidate_scores):
        raise ValueError("candidate_ids and candidate_scores differ in number of units")
    width = max((len(s) for s in candidate_scores), default=0)
    scores = np.full((len(candidate_scores), width), np.nan)
    for i, row in enumerate(candidate_scores):
        if len(row) != len(candidate_ids[i]):
            raise ValueError(f"unit {i}: {len(candidate_ids[i])} ids but {len(row)} scores")
        scores[i, : len(row)] = row
    return scores, np.isfinite(scores)


def associate_batch(
    candidate_ids: Sequence[Sequence[Hashable]] | np.ndarray,
    candidate_scores: Sequence[Sequence[float]] | np.ndarray,
    config: AssociationConfig | None = None,
    *,
    candidate_granularities: Sequence[Sequence[str]] | np.ndarray | None = None,
    src_ids: Sequence[Hashable] | None = None,
    chunk_size: int = 2048,
) -> list[AssociationLink]:
    """Associate a batch of new units with their candidates, one mixture per unit.

    Args:
        candidate_ids: Per unit, the ids of its candidate historical units (ragged lists, or a
            2-D array padded with anything where the score is NaN).
        candidate_scores: Per unit, the cosine scores aligned with ``candidate_ids`` (ragged
            lists, or a 2-D array with NaN padding).
        config: Settings; defaults to :class:`AssociationConfig()`.
        candidate_granularities: Optional per-candidate granularity (e.g. ``"turn"``), aligned
            with ``candidate_ids``; copied onto the links.
        src_ids: Optional id of each new unit; a candidate equal to its own unit's id (the unit
            found itself in the index) is dropped before fitting.
        chunk_size: Units fitted together per vectorised pass (bounds memory).

    Returns:
        The accepted links, ordered by unit then by descending weight.

    Raises:
        ValueError: If ids and scores are misaligned.
    """
    config = config or AssociationConfig()
    scores, mask = _pad(candidate_ids, candidate_scores)
    if src_ids is not None:
        if len(src_ids) != scores.shape[0]:
            raise ValueError("src_ids must have one id per unit")
        for i, sid in enumerate(src_ids):
            ids_i = candidate_ids[i]
            for j in range(min(len(ids_i), scores.shape[1])):
                if mask[i, j] and ids_i[j] == sid:
                    mask[i, j] = False
    links: list[AssociationLink] = []
    all_methods = []
    for start in range(0, scores.shape[0], max(1, chunk_size)):
        stop = min(start + chunk_size, scores.shape[0])
        accepted, weights, methods = _decide(scores[start:stop], mask[start:stop], config)
        all_methods.append(methods)
        rows, cols = np.nonzero(accepted)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            i = start + r
            gran = None if candidate_granularities is None else candidate_granularities[i][c]
            links.append(
                AssociationLink(i, candidate_ids[i][c], float(weights[r, c]), str(methods[r]), gran)
            )
    if all_methods:
        _log_fallbacks(np.concatenate(all_methods))
    links.sort(key=lambda link: (link.src_index, -link.weight))
    return links
