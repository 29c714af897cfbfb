"""Topic clustering per granularity: a Gaussian mixture over unit embeddings.

:class:`TopicModel` is an sklearn-style estimator. ``fit`` reduces the (L2-normalised)
embeddings with PCA, fits Gaussian mixtures for a range of component counts and keeps the one
with the lowest BIC, then labels every topic with its most distinctive terms (class-based
TF-IDF over the member texts, unigrams and bigrams, stopwords removed). The fitted model is a
handful of arrays: ``to_state`` turns it into a JSON-safe dict and ``from_state`` brings it
back, so units ingested later are assigned to the existing topics without refitting;
``needs_refit`` tells when new data no longer fits them.

:func:`link_hierarchy` connects topics of two granularities (event topics within turn topics,
turn topics within episode or session topics) by how much membership mass their units share.

Why spherical covariance by default: on 32 PCA dimensions of all-MiniLM-L6-v2 turn embeddings,
BIC with diagonal covariance (64 parameters per component) keeps choosing 2-3 topics for a
500-turn conversation, while spherical components (33 parameters, close to a von Mises-Fisher
mixture on the unit sphere) give 10-20 topics that read as distinct subjects. ``"diag"`` is
available through :class:`TopicConfig`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import regex
from scipy.special import logsumexp

from graphmem.scripts import CJK, cjk_characters, cjk_pairs

__all__ = [
    "FitPaused",
    "Mixtures",
    "TopicConfig",
    "TopicModel",
    "fit_models",
    "link_hierarchy",
    "membership_rows",
    "preload",
    "text_terms",
]

logger = logging.getLogger(__name__)

STATE_FORMAT = "graphmem.topic_model/1"
_LOG_2PI = float(np.log(2.0 * np.pi))
_COVARIANCE_TYPES = ("spherical", "diag")
_EM_TOL = 1e-3  # sklearn GaussianMixture's default tol: the change in mean log-likelihood that ends EM

# Conversation fillers that carry no subject; added to the English stopword list below.
_CHAT_FILLERS = """
    hey hi hello yeah yes yep yup nope oh ah aw wow whoa woah haha lol ok okay thanks thank
    really just like got get gets getting gonna wanna gotta lot lots pretty super totally
    definitely absolutely sure thing things stuff awesome amazing great cool nice good glad
    sounds sound feel feels felt know think thought mean means make makes made let lets
    want wanted going went way ve ll don didn doesn isn wasn aren im ive id youre thats
    did does doing done look looks looking wait bye far kinda soon hear
"""
_CHAT_STOPWORDS = frozenset(_CHAT_FILLERS.split())
_TOKEN_RE = re.compile(r"[a-z][a-z']*[a-z]|[a-z]")
#: The same words in any alphabet, their combining marks in them ("café", "müller", "fußball",
#: "москва"; ASCII letters only made "caf", "ller", "fu ball" and nothing of Cyrillic); a run of
#: Chinese, Japanese or Korean characters is its character pairs (:func:`graphmem.scripts.cjk_pairs`).
_SCRIPT_TOKEN_RE = regex.compile(rf"[{CJK}]+|[[\p{{L}}]--[{CJK}]](?:[[\p{{L}}\p{{M}}']--[{CJK}]]*[[\p{{L}}\p{{M}}]--[{CJK}]])?",
                                 regex.VERSION1)


def _tokens(text: str) -> list[str]:
    """The lower-case words of ``text`` (:data:`_TOKEN_RE`, or :data:`_SCRIPT_TOKEN_RE` beyond ASCII)."""
    if text.isascii():
        return _TOKEN_RE.findall(text.lower())
    return cjk_pairs(_SCRIPT_TOKEN_RE.findall(unicodedata.normalize("NFKC", text).lower()))


def preload() -> None:
    """Import the parts of scikit-learn topic fitting uses (about 1.8 s on this project's
    2-core machine): a writer calls it when it is set up, as it loads its models, so the
    first ingest or add does not pay for it."""
    import sklearn.feature_extraction.text  # noqa: F401
    import sklearn.cluster  # noqa: F401


# scikit-learn's ENGLISH_STOP_WORDS (318 words, the list CountVectorizer(stop_words="english")
# uses), kept here so that finding a text's terms (text_terms, run by every forget) does not import
# scikit-learn: that import alone took 0.7 s of a first forget at 100,000 turns. A test checks the
# list equals scikit-learn's.
_ENGLISH_STOPWORDS = frozenset("""
    a about above across after afterwards again against all almost alone along already also although
    always am among amongst amoungst amount an and another any anyhow anyone anything anyway
    anywhere are around as at back be became because become becomes becoming been before beforehand
    behind being below beside besides between beyond bill both bottom but by call can cannot cant co
    con could couldnt cry de describe detail do done down due during each eg eight either eleven
    else elsewhere empty enough etc even ever every everyone everything everywhere except few
    fifteen fifty fill find fire first five for former formerly forty found four from front full
    further get give go had has hasnt have he hence her here hereafter hereby herein hereupon hers
    herself him himself his how however hundred i ie if in inc indeed interest into is it its itself
    keep last latter latterly least less ltd made many may me meanwhile might mill mine more
    moreover most mostly move much must my myself name namely neither never nevertheless next nine
    no nobody none noone nor not nothing now nowhere of off often on once one only onto or other
    others otherwise our ours ourselves out over own part per perhaps please put rather re same see
    seem seemed seeming seems serious several she should show side since sincere six sixty so some
    somehow someone something sometime sometimes somewhere still such system take ten than that the
    their them themselves then thence there thereafter thereby therefore therein thereupon these
    they thick thin third this those though three through throughout thru thus to together too top
    toward towards twelve twenty two un under until up upon us very via was we well were what
    whatever when whence whenever where whereafter whereas whereby wherein whereupon wherever
    whether which while whither who whoever whole whom whose why will with within without would yet
    you your yours yourself yourselves
""".split())


_STOPWORDS = _ENGLISH_STOPWORDS | _CHAT_STOPWORDS
"""The words no topic label takes (English and chat fillers)."""


@dataclass(frozen=True)
class TopicConfig:
    """Settings for :class:`TopicModel`.

    Attributes:
        k_min: Fewest topics BIC may choose (when the data allows it).
        k_max: Most topics BIC may choose; the effective bound is also capped at
            ``n // min_cluster_size``.
        min_cluster_size: Units per topic the data must afford on average; caps ``k_max``.
        pca_dims: Dimensions kept by PCA before the mixture (None: no reduction), capped at
            ``n // 4`` for small samples. 32 keeps ~58% of the variance of LoCoMo turn
            embeddings (all-MiniLM-L6-v2, 384-d), the leading directions where subjects
            differ, and keeps the mixtures fast.
        covariance_type: ``"spherical"`` (default, see the module docstring) or ``"diag"``.
        reg_covar: Added to component variances; 1e-4 is small next to the per-dimension
            variance of PCA-reduced sentence embeddings (~1e-3..1e-2) but keeps tiny topics
            from collapsing.
        membership_threshold: Least posterior kept as an ``IN_TOPIC`` membership (the
            strongest topic of a unit is always kept).
        max_memberships: Most topics kept per unit.
        n_terms: Distinctive terms kept per topic for its label.
        label_terms: Terms joined into the human-readable label.
        min_term_df: Least number of member texts a term must occur in (lowered to 1 when
            that leaves no vocabulary).
        search_grid: Component counts tried on a geometric grid between the bounds before
            refining around the best one (all counts are tried when the range is small).
        max_iter: EM iterations per mixture.
        n_init: EM restarts per mixture.
        fit_sample: Most units the mixtures are fitted on (None: all). A larger granularity
            is fitted on that many units drawn at random (seeded by ``random_state``), and
            every unit then gets its memberships, and the topics their sizes and labels, from
            the fitted mixture, as units ingested later do. PCA still sees every unit. EM's
            cost grows faster than the units' count (one fit of 16,867 LongMemEval dev12
            events: 3.5 s; of 30,000 and 60,000: 6.6 s and 17.1 s); fitted on 8,000 of those
            16,867, the topics took 1.7 s, the mean log-likelihood of all the units under them
            was 682.96 against 683.57 (0.1% lower), and their hard assignments agree with the
            full fit's as much as two full fits with other seeds agree with each other
            (adjusted Rand index 0.45 against 0.47).
        refit_threshold: Drop in mean log-likelihood per input dimension (nats) beyond which
            :meth:`TopicModel.needs_refit` says the topics no longer describe new data. On the
            LoCoMo dev set (models fitted on 100-300 turns of a conversation) the next three
            sessions drop 0.10-0.18 and other conversations 0.22-0.41; much smaller models
            (tens of units) drop less and need a lower threshold.
        blas_threads: BLAS/OpenMP threads while fitting (None: leave as configured). The
            matrices are small, and on a busy 2-core machine multi-threaded BLAS made fitting
            4-10x slower.
        random_state: Seed for the mixtures (PCA is exact and needs none).
    """

    k_min: int = 2
    k_max: int = 40
    min_cluster_size: int = 10
    pca_dims: int | None = 32
    covariance_type: str = "spherical"
    reg_covar: float = 1e-4
    membership_threshold: float = 0.2
    max_memberships: int = 3
    n_terms: int = 8
    label_terms: int = 4
    min_term_df: int = 2
    search_grid: int = 8
    max_iter: int = 200
    n_init: int = 1
    fit_sample: int | None = 8000
    refit_threshold: float = 0.2
    blas_threads: int | None = 1
    random_state: int = 0

    def __post_init__(self) -> None:
        if self.k_min < 1 or self.k_max < self.k_min:
            raise ValueError(f"need 1 <= k_min <= k_max, got {self.k_min}, {self.k_max}")
        if self.min_cluster_size < 1:
            raise ValueError("min_cluster_size must be at least 1")
        if self.pca_dims is not None and self.pca_dims < 1:
            raise ValueError("pca_dims must be None or at least 1")
        if self.covariance_type not in _COVARIANCE_TYPES:
            raise ValueError(
                f"covariance_type must be one of {_COVARIANCE_TYPES}, got {self.covariance_type!r}"
            )
        if not 0.0 <= self.membership_threshold <= 1.0:
            raise ValueError("membership_threshold must lie in [0, 1]")
        if self.max_memberships < 1 or self.n_terms < 1 or self.search_grid < 2:
            raise ValueError("max_memberships, n_terms must be >= 1 and search_grid >= 2")
        if self.fit_sample is not None and self.fit_sample < 1:
            raise ValueError("fit_sample must be None or at least 1")


class TopicModel:
    """Gaussian-mixture topics over unit embeddings, with readable labels.

    Args:
        config: Settings; defaults to :class:`TopicConfig()`.

    Fitted attributes (after :meth:`fit` or :meth:`from_state`):
        n_topics_: Number of topics.
        pca_mean_, pca_components_: Projection (``(d,)``, ``(q, d)``); ``q = 0`` without PCA.
        residual_variance_: Per-dimension variance of what PCA discards (used for the
            likelihood only).
        weights_, means_, variances_: Mixture parameters, ``(k,)``, ``(k, q)``, ``(k, q)``
            (diagonal variances; spherical components repeat their variance).
        topic_terms_: Per topic, its distinctive terms, best first.
        topic_labels_: Per topic, a short label from the first terms.
        topic_sizes_: Per topic, the number of training units whose strongest topic it is.
        train_log_likelihood_: Mean log-likelihood per training unit.
        bic_: ``{k: BIC}`` for every component count tried (empty for the single-topic
            fallback), on the units the mixtures were fitted on.
        fitted_units_: How many units the mixtures were fitted on (``config.fit_sample``
            at most; all of them otherwise).
        fallback_: None, or why a single topic was used.

    Topics are ordered by size, largest first. Fitting the same data with the same config
    gives the same model.

    Example:
        >>> model = TopicModel(TopicConfig(min_cluster_size=5)).fit(embeddings, texts)
        >>> memberships = model.assign(new_embeddings)     # (n, n_topics_), zeros below threshold
        >>> state = model.to_state(); same = TopicModel.from_state(state)
    """

    def __init__(self, config: TopicConfig | None = None) -> None:
        self.config = config or TopicConfig()
        # a fit that may stop between mixtures (see Mixtures): set for one fit by its caller
        self._mixtures: Mixtures | None = None

    # fitting -----------------------------------------------------------------------------

    def fit(
        self,
        embeddings: np.ndarray,
        texts: Sequence[str] | None = None,
        *,
        extra_stopwords: Iterable[str] = (),
    ) -> TopicModel:
        """Fit topics to ``embeddings`` and label them from ``texts``.

        With fewer than ``2 * k_min`` units, or when ``n // min_cluster_size`` allows fewer
        than ``k_min`` topics, a single topic (one Gaussian) holds everything; this is logged
        and recorded in ``fallback_``, and the model still assigns and scores new data.

        Args:
            embeddings: Shape ``(n, d)``, one row per unit (L2-normalised sentence
                embeddings); n >= 1.
            texts: The units' texts, aligned with ``embeddings``, for topic labels; without
                them topics are labelled ``"topic <i>"``.
            extra_stopwords: Words kept out of labels in addition to English and chat
                stopwords (speaker names, for instance).

        Returns:
            self.

        Raises:
            ValueError: If ``embeddings`` is not a finite, non-empty 2-D array or ``texts``
                is misaligned.
        """
        if self.config.blas_threads is None:
            return self._fit_checked(embeddings, texts, extra_stopwords)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=self.config.blas_threads, user_api=None):
            return self._fit_checked(embeddings, texts, extra_stopwords)

    def _fit_checked(self, embeddings: np.ndarray, texts: Sequence[str] | None, extra_stopwords: Iterable[str]) -> TopicModel:
        """:meth:`fit` under whatever thread limits are set."""
        x = _as_matrix(embeddings)
        if texts is not None and len(texts) != x.shape[0]:
            raise ValueError(f"{len(texts)} texts for {x.shape[0]} embeddings")
        return self._fit(x, texts, frozenset(extra_stopwords))

    def _fit(
        self, x: np.ndarray, texts: Sequence[str] | None, extra_stopwords: frozenset[str]
    ) -> TopicModel:
        cfg = self.config
        n, d = x.shape

        # A small sample cannot estimate many directions: keep at most a quarter of the units'
        # count, which also leaves discarded directions to estimate the residual variance.
        q = 0 if cfg.pca_dims is None else min(cfg.pca_dims, n // 4, d)
        self.pca_mean_, self.pca_components_, self.residual_variance_ = _fit_pca(x, q)
        z = self._project(x)
        # the mixtures' units: all of them, or a seeded sample of a large granularity (see fit_sample)
        fitted = z
        if cfg.fit_sample is not None and n > cfg.fit_sample:
            fitted = z[np.sort(np.random.RandomState(cfg.random_state).choice(n, cfg.fit_sample, replace=False))]
        self.fitted_units_ = m = fitted.shape[0]

        k_hi = min(cfg.k_max, m // cfg.min_cluster_size)
        self.fallback_: str | None = None
        self.bic_: dict[int, float] = {}
        if m < 2 * cfg.k_min or k_hi < cfg.k_min:
            self.fallback_ = (
                f"single topic: {m} unit(s) cannot support k_min={cfg.k_min} topics of "
                f"min_cluster_size={cfg.min_cluster_size}"
            )
            logger.info("topic fallback: %s", self.fallback_)
            weights = np.ones(1)
            means = z.mean(axis=0, keepdims=True)
            var = ((z - means) ** 2).mean(axis=0, keepdims=True) + cfg.reg_covar
            if cfg.covariance_type == "spherical":
                var = np.full_like(var, var.mean())
        else:
            mixtures = self._mixtures if self._mixtures is not None else Mixtures()

            def bic(k: int) -> float:
                self.bic_[k] = mixtures.get(k, lambda: _fit_mixture(fitted, k, cfg))[3]
                return self.bic_[k]

            best_k = _search_k(bic, cfg.k_min, k_hi, cfg.search_grid)
            weights, means, var, _ = mixtures.get(best_k, lambda: _fit_mixture(fitted, best_k, cfg))
            if cfg.covariance_type == "spherical":
                var = np.repeat(var[:, None], z.shape[1], axis=1)
            logger.debug("topic model: BIC chose k=%d from %s", best_k, self.bic_)
        self._mixtures = None  # its caller keeps them; the fitted model holds no pause (nor what it refers to)

        self.weights_, self.means_, self.variances_ = weights, means, var
        self._prune_and_order(z)
        post = self._posterior(z)
        self.topic_sizes_ = np.bincount(post.argmax(axis=1), minlength=self.n_topics_)
        self.train_log_likelihood_ = float(self._log_likelihood(x).mean())
        kept = self._keep_memberships(post)
        terms = (
            _ctfidf_terms(texts, kept, cfg.n_terms, cfg.min_term_df, extra_stopwords)
            if texts is not None
            else [[] for _ in range(self.n_topics_)]
        )
        self._set_terms(terms)
        return self

    def _set_terms(self, terms: list[list[str]]) -> None:
        self.topic_terms_: list[list[str]] = terms
        self.topic_labels_: list[str] = [
            ", ".join(t[: self.config.label_terms]) if t else f"topic {i}" for i, t in enumerate(terms)
        ]

    def relabel(
        self, texts: Sequence[str], memberships: np.ndarray, *, extra_stopwords: Iterable[str] = ()
    ) -> TopicModel:
        """Label the topics again from the texts of their current members; the mixture stays.

        Terms, labels and sizes are computed as :meth:`fit` computes them, from ``texts``
        and their ``memberships`` (the kept posteriors, as stored on ``IN_TOPIC`` edges), so
        a topic's label holds words of the units it has now: after a forget, none of the
        forgotten ones.

        Args:
            texts: The members' texts.
            memberships: Shape ``(len(texts), n_topics_)``.
            extra_stopwords: As for :meth:`fit`.

        Returns:
            self.

        Raises:
            ValueError: If ``memberships`` does not match ``texts`` and the topics.
        """
        self._check_fitted()
        m = np.asarray(memberships, dtype=np.float64)
        if m.shape != (len(texts), self.n_topics_):
            raise ValueError(f"memberships of shape {m.shape} for {len(texts)} texts and {self.n_topics_} topics")
        cfg = self.config
        if len(texts):
            terms = _ctfidf_terms(texts, m, cfg.n_terms, cfg.min_term_df, frozenset(extra_stopwords))
            self.topic_sizes_ = np.bincount(m.argmax(axis=1), minlength=self.n_topics_)
        else:
            terms = [[] for _ in range(self.n_topics_)]
            self.topic_sizes_ = np.zeros(self.n_topics_, dtype=np.int64)
        self._set_terms(terms)
        return self

    def _prune_and_order(self, z: np.ndarray) -> None:
        """Drop components that are no unit's strongest topic; order the rest by size."""
        hard = self._posterior(z).argmax(axis=1)
        counts = np.bincount(hard, minlength=self.weights_.size)
        keep = np.flatnonzero(counts > 0)
        # largest first; ties broken by component index so the order is deterministic
        keep = keep[np.lexsort((keep, -counts[keep]))]
        if keep.size < self.weights_.size:
            logger.debug(
                "topic model: dropped %d empty component(s)", self.weights_.size - keep.size
            )
        self.weights_ = self.weights_[keep] / self.weights_[keep].sum()
        self.means_ = self.means_[keep]
        self.variances_ = self.variances_[keep]

    # inference ---------------------------------------------------------------------------

    @property
    def n_topics_(self) -> int:
        """Number of topics of the fitted model."""
        self._check_fitted()
        return int(self.weights_.size)

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise RuntimeError("TopicModel is not fitted; call fit() or from_state() first")

    def _project(self, x: np.ndarray) -> np.ndarray:
        if self.pca_components_.shape[0] == 0:
            return x
        return (x - self.pca_mean_) @ self.pca_components_.T

    def _component_log_prob(self, z: np.ndarray) -> np.ndarray:
        """log(weight_k) + log N(z; mean_k, diag(var_k)), shape (n, k)."""
        prec = 1.0 / self.variances_
        quad = (z**2) @ prec.T - 2.0 * z @ (self.means_ * prec).T + (self.means_**2 * prec).sum(1)
        log_det = np.log(self.variances_).sum(axis=1)
        return np.log(self.weights_) - 0.5 * (z.shape[1] * _LOG_2PI + log_det + quad)

    def _posterior(self, z: np.ndarray) -> np.ndarray:
        lp = self._component_log_prob(z)
        return np.exp(lp - logsumexp(lp, axis=1, keepdims=True))

    def _log_likelihood(self, x: np.ndarray) -> np.ndarray:
        """Per-unit log-likelihood in the full embedding space.

        The mixture density on the PCA coordinates times an isotropic Gaussian on the
        discarded residual (probabilistic-PCA style), so data in directions the topics never
        saw (a new subject) scores low even when its projection looks ordinary.
        """
        z = self._project(x)
        ll = logsumexp(self._component_log_prob(z), axis=1)
        n_res = x.shape[1] - z.shape[1]
        if self.pca_components_.shape[0] and n_res > 0:
            centred = x - self.pca_mean_
            res2 = (centred**2).sum(axis=1) - (z**2).sum(axis=1)
            var = self.residual_variance_
            ll = ll - 0.5 * (n_res * (_LOG_2PI + np.log(var)) + np.maximum(res2, 0.0) / var)
        return ll

    def predict_proba(self, embeddings: np.ndarray) -> np.ndarray:
        """Full topic posteriors, shape ``(n, n_topics_)``, rows summing to 1.

        Raises:
            RuntimeError: If the model is not fitted.
            ValueError: If the embedding dimension differs from the training data.
        """
        self._check_fitted()
        return self._posterior(self._project(self._checked(embeddings)))

    def predict(self, embeddings: np.ndarray) -> np.ndarray:
        """Strongest topic per unit, shape ``(n,)``."""
        return self.predict_proba(embeddings).argmax(axis=1)

    def assign(self, embeddings: np.ndarray) -> np.ndarray:
        """Soft memberships to keep as ``IN_TOPIC`` edges.

        Posteriors below ``membership_threshold`` and beyond the ``max_memberships`` strongest
        are set to 0; each unit's strongest topic is always kept. Kept values are the raw
        posteriors (not renormalised). Use :func:`membership_rows` for edge rows.

        Args:
            embeddings: Shape ``(n, d)``.

        Returns:
            Shape ``(n, n_topics_)``.
        """
        return self._keep_memberships(self.predict_proba(embeddings))

    def _keep_memberships(self, post: np.ndarray) -> np.ndarray:
        cfg = self.config
        order = np.argsort(-post, axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(post.shape[1])[None, :], axis=1)
        keep = (post >= cfg.membership_threshold) & (rank < cfg.max_memberships)
        keep |= rank == 0
        return np.where(keep, post, 0.0)

    def score_fit(self, embeddings: np.ndarray) -> float:
        """Mean log-likelihood per unit of ``embeddings`` under the fitted model.

        The density is the mixture on the PCA coordinates times an isotropic Gaussian on the
        discarded residual, so it is comparable with ``train_log_likelihood_`` and drops for
        data in directions the topics never saw.
        """
        self._check_fitted()
        return float(self._log_likelihood(self._checked(embeddings)).mean())

    def needs_refit(self, new_embeddings: np.ndarray, threshold: float | None = None) -> bool:
        """Whether the topics no longer describe ``new_embeddings``.

        Compares the new data's mean log-likelihood with the training mean; a drop of more
        than ``threshold`` nats per embedding dimension means refit. The training mean is
        optimistic (the model saw those units), so held-out data of the same subjects drops a
        little; the default ``refit_threshold`` leaves room for that.

        Args:
            new_embeddings: Shape ``(m, d)``, m >= 1.
            threshold: Overrides ``config.refit_threshold``.

        Returns:
            True when the drop exceeds the threshold.
        """
        limit = self.config.refit_threshold if threshold is None else threshold
        x = self._checked(new_embeddings)
        drop = (self.train_log_likelihood_ - self.score_fit(x)) / x.shape[1]
        logger.debug("topic model: log-likelihood drop %.4f nats/dim (limit %.4f)", drop, limit)
        return bool(drop > limit)

    def _checked(self, embeddings: np.ndarray) -> np.ndarray:
        x = _as_matrix(embeddings)
        if x.shape[1] != self.pca_mean_.size:
            raise ValueError(
                f"embeddings have dimension {x.shape[1]}, the model was fitted on "
                f"{self.pca_mean_.size}"
            )
        return x

    # persistence -------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """The fitted model as a JSON-safe dict (lists, floats, strings).

        ``json.dumps`` keeps float64 values exactly, so :meth:`from_state` on the decoded dict
        assigns exactly as this model does. For ``np.savez`` wrap the lists in ``np.asarray``.
        """
        self._check_fitted()
        return {
            "format": STATE_FORMAT,
            "config": asdict(self.config),
            "pca_mean": self.pca_mean_.tolist(),
            "pca_components": self.pca_components_.tolist(),
            "residual_variance": float(self.residual_variance_),
            "weights": self.weights_.tolist(),
            "means": self.means_.tolist(),
            "variances": self.variances_.tolist(),
            "topic_terms": [list(t) for t in self.topic_terms_],
            "topic_labels": list(self.topic_labels_),
            "topic_sizes": self.topic_sizes_.tolist(),
            "train_log_likelihood": float(self.train_log_likelihood_),
            "bic": {str(k): v for k, v in self.bic_.items()},
            "fallback": self.fallback_,
            "fitted_units": int(self.fitted_units_),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TopicModel:
        """Rebuild a fitted model from :meth:`to_state` output (arrays or lists).

        Raises:
            ValueError: If the state is of another format or misses a field.
        """
        if state.get("format") != STATE_FORMAT:
            raise ValueError(f"not a {STATE_FORMAT} state: format={state.get('format')!r}")
        try:
            known = {f.name for f in fields(TopicConfig)}
            model = cls(TopicConfig(**{k: v for k, v in state["config"].items() if k in known}))
            dim = len(state["pca_mean"])
            model.pca_mean_ = np.asarray(state["pca_mean"], dtype=np.float64)
            model.pca_components_ = np.asarray(state["pca_components"], dtype=np.float64).reshape(
                -1, dim
            )
            model.residual_variance_ = float(state["residual_variance"])
            model.weights_ = np.asarray(state["weights"], dtype=np.float64)
            k = model.weights_.size
            model.means_ = np.asarray(state["means"], dtype=np.float64).reshape(k, -1)
            model.variances_ = np.asarray(state["variances"], dtype=np.float64).reshape(k, -1)
            model.topic_terms_ = [list(t) for t in state["topic_terms"]]
            model.topic_labels_ = list(state["topic_labels"])
            model.topic_sizes_ = np.asarray(state["topic_sizes"], dtype=np.int64)
            model.train_log_likelihood_ = float(state["train_log_likelihood"])
            model.bic_ = {int(k): float(v) for k, v in state.get("bic", {}).items()}
            model.fallback_ = state.get("fallback")
            # a state saved before fit_sample: its mixtures saw every training unit
            model.fitted_units_ = int(state.get("fitted_units", int(model.topic_sizes_.sum())))
        except KeyError as exc:
            raise ValueError(f"topic model state misses field {exc.args[0]!r}") from exc
        return model


# helpers -----------------------------------------------------------------------------------


class FitPaused(Exception):
    """A fit stopped between two mixtures because its :class:`Mixtures` was asked to pause."""


class Mixtures:
    """The Gaussian mixtures a fit's component-count search has fitted, by count, kept so that
    the fit can stop between two of them and go on later.

    With ``pause`` (called before each new mixture), a fit raises :class:`FitPaused` once it
    returns true; fitting the same embeddings again with the same ``Mixtures`` (and no pause)
    takes the kept ones and fits the rest. The search tries the same counts in the same order
    and each mixture has its own seeded start, so the model is the one an uninterrupted fit
    gives, and no mixture is fitted twice."""

    def __init__(self, pause: Callable[[], bool] | None = None) -> None:
        self.pause = pause
        self.fitted: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, float]] = {}

    def get(self, k: int, fit: Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray, float]]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        if k not in self.fitted:
            if self.pause is not None and self.pause():
                raise FitPaused(f"paused before the mixture of {k} components")
            self.fitted[k] = fit()
        return self.fitted[k]


def fit_models(jobs: Sequence[tuple[TopicConfig, np.ndarray, Sequence[str] | None, Iterable[str]]],
               workers: int | None = None, mixtures: Sequence[Mixtures | None] | None = None) -> list[TopicModel]:
    """Fit one :class:`TopicModel` per job ``(config, embeddings, texts, extra_stopwords)``, as
    :meth:`TopicModel.fit` would one after another, but up to ``workers`` at a time in threads
    (default: one per core, at most one per job), the largest first. ``mixtures``: per job, the
    :class:`Mixtures` its fit keeps its mixtures in (and may pause by; :class:`FitPaused` is
    raised once the other jobs have ended).

    The models are the ones fitted one by one (each has its own seeded start). The BLAS/OpenMP
    thread limit of the configs is set once around all of them (a limit set and restored per
    fit would race between the threads). The mixtures' array work runs outside the GIL, on
    large samples mostly: two LongMemEval-sized fits (5,800 units each) took 1.7 s side by side
    against 2.8 s one after the other; two of LoCoMo's 1,451 turns 0.6 s against 0.7 s."""
    kept = list(mixtures) if mixtures is not None else [None] * len(jobs)
    if len(kept) != len(jobs):
        raise ValueError(f"{len(kept)} mixture stores for {len(jobs)} jobs")

    def model(i: int) -> TopicModel:
        made = TopicModel(jobs[i][0])
        made._mixtures = kept[i]
        return made

    workers = max(1, min(len(jobs), workers or os.cpu_count() or 1))
    if workers == 1:
        return [model(i).fit(x, texts, extra_stopwords=stop) for i, (_, x, texts, stop) in enumerate(jobs)]
    limits = {cfg.blas_threads for cfg, *_ in jobs}
    if len(limits) != 1:
        raise ValueError(f"jobs fitted together need one blas_threads setting, got {sorted(limits, key=str)}")
    limit = limits.pop()

    def fit(i: int) -> TopicModel:
        _, x, texts, stop = jobs[i]
        return model(i)._fit_checked(x, texts, stop)

    order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i][1]))
    models: list[TopicModel | None] = [None] * len(jobs)
    from concurrent.futures import ThreadPoolExecutor
    from threadpoolctl import threadpool_limits

    with contextlib.ExitStack() as stack:
        if limit is not None:
            stack.enter_context(threadpool_limits(limits=limit, user_api=None))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="graphmem-topics") as pool:
            for i, fitted in zip(order, pool.map(fit, order)):
                models[i] = fitted
    return [m for m in models if m is not None]


def _as_matrix(embeddings: np.ndarray) -> np.ndarray:
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"embeddings must be a non-empty 2-D array, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("embeddings contain NaN or infinite values")
    return x


def _fit_pca(x: np.ndarray, q: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Exact PCA by eigendecomposition of the covariance; deterministic signs.

    Returns the mean, the top-q components (rows, largest variance first, each with its
    largest-magnitude coordinate positive) and the residual variance: the mean of the
    discarded eigenvalues within the sample's rank (with fewer units than dimensions the
    eigenvalues beyond the rank are zero only because the sample is small).
    """
    mean = x.mean(axis=0)
    n, d = x.shape
    if q <= 0:
        return mean, np.zeros((0, d)), 1.0
    xc = x - mean
    cov = xc.T @ xc / max(n - 1, 1)
    evals, evecs = np.linalg.eigh(cov)
    order = np.argsort(evals)[::-1]
    evals, evecs = np.clip(evals[order], 0.0, None), evecs[:, order]
    comps = evecs[:, :q].T
    signs = np.sign(comps[np.arange(q), np.abs(comps).argmax(axis=1)])
    comps = comps * np.where(signs == 0, 1.0, signs)[:, None]
    discarded = evals[q : min(n - 1, d)]
    residual = float(discarded.mean()) if discarded.size else 0.0
    # a floor keeps the residual density finite when the data span only q dimensions
    return mean, comps, max(residual, 1e-6)


def _fit_mixture(z: np.ndarray, k: int, cfg: TopicConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """One Gaussian mixture of ``k`` spherical or diagonal components fitted to ``z`` by EM:
    ``(weights, means, variances, BIC)``, variances ``(k,)`` when spherical, ``(k, q)`` when
    diagonal.

    The algorithm of ``sklearn.mixture.GaussianMixture(k, covariance_type=..., reg_covar=...,
    max_iter=..., random_state=...)`` with its default ``tol`` of 1e-3, from the same start
    (hard labels of ``sklearn.cluster.KMeans`` with one initialisation and the same seed) and
    with the same updates, so it reaches the same mixture (equal to about 1e-9; only the
    rounding of the log-sum-exp differs). It skips the estimator's per-fit input validation
    and array-namespace dispatch and computes ``z * z`` once: the four topic fits of a LoCoMo
    dev ingest (51 mixtures, PCA and labels included) took 1.10 s with the estimator and take
    0.86 s with this (best of 3). ``n_init`` restarts keep the best lower bound, as sklearn's do."""
    from sklearn.cluster import KMeans

    n, q = z.shape
    spherical = cfg.covariance_type == "spherical"
    zz = z * z
    sq = zz.sum(axis=1)
    eps10 = 10 * np.finfo(np.float64).eps
    rng = np.random.RandomState(cfg.random_state)

    def m_step(resp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        nk = resp.sum(axis=0) + eps10
        means = (resp.T @ z) / nk[:, None]
        var = (resp.T @ zz) / nk[:, None] - means**2 + cfg.reg_covar
        if spherical:
            var = var.mean(axis=1)
        if np.any(var <= 0.0):
            raise ValueError(f"topic mixture of {k} components: a component's variance collapsed; raise reg_covar")
        return nk, means, var

    def log_norm(weights: np.ndarray, means: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        prec_chol = 1.0 / np.sqrt(var)
        prec = prec_chol**2
        if spherical:
            quad = (means**2).sum(axis=1) * prec - 2 * (z @ means.T * prec) + np.outer(sq, prec)
            log_det = q * np.log(prec_chol)
        else:
            quad = (means**2 * prec).sum(axis=1) - 2.0 * (z @ (means * prec).T) + zz @ prec.T
            log_det = np.log(prec_chol).sum(axis=1)
        weighted = -0.5 * (q * _LOG_2PI + quad) + log_det + np.log(weights)
        top = weighted.max(axis=1)
        norm = np.log(np.exp(weighted - top[:, None]).sum(axis=1)) + top
        return weighted, norm

    best: tuple[float, np.ndarray, np.ndarray, np.ndarray] | None = None
    for _ in range(cfg.n_init):
        labels = KMeans(n_clusters=k, n_init=1, random_state=rng).fit(z).labels_
        resp = np.zeros((n, k))
        resp[np.arange(n), labels] = 1.0
        nk, means, var = m_step(resp)
        weights = nk / n
        lower = -np.inf
        converged = False
        for _ in range(cfg.max_iter):
            previous = lower
            weighted, norm = log_norm(weights, means, var)
            lower = float(norm.mean())
            nk, means, var = m_step(np.exp(weighted - norm[:, None]))
            weights = nk / nk.sum()
            if abs(lower - previous) < _EM_TOL:
                converged = True
                break
        if not converged:
            logger.debug("topic mixture of %d components: EM stopped at max_iter=%d before converging", k, cfg.max_iter)
        if best is None or lower > best[0]:
            best = (lower, weights, means, var)
    assert best is not None
    _, weights, means, var = best
    score = float(log_norm(weights, means, var)[1].mean())
    n_params = k * (1 if spherical else q) + k * q + k - 1
    return weights, means, var, -2.0 * score * n + n_params * np.log(n)


def _search_k(bic: Callable[[int], float], k_lo: int, k_hi: int, grid: int) -> int:
    """Component count with the lowest BIC in [k_lo, k_hi].

    Small ranges are searched exhaustively. Larger ones are searched on a geometric grid,
    then around the best point by repeatedly trying the midpoints between it and its nearest
    tried neighbours, so the refinement costs about ``2 * log2(gap)`` fits instead of one per
    count. Ties go to the smaller count.
    """
    if k_hi - k_lo + 1 <= grid:
        return min(range(k_lo, k_hi + 1), key=lambda k: (bic(k), k))
    tried = set(np.round(np.geomspace(k_lo, k_hi, grid)).astype(int).tolist())
    for k in sorted(tried):
        bic(k)
    while True:
        best = min(tried, key=lambda k: (bic(k), k))
        below = max((k for k in tried if k < best), default=None)
        above = min((k for k in tried if k > best), default=None)
        mids = {
            (a + b) // 2
            for a, b in ((below, best), (best, above))
            if a is not None and b is not None and b - a > 1
        }
        if not mids:
            return best
        for k in sorted(mids):
            bic(k)
        tried |= mids


def _analyzer(stopwords: frozenset[str]) -> Callable[[str], list[str]]:
    """Lower-case word tokens without stopwords, plus bigrams of words adjacent in the text.

    A bigram never bridges a removed stopword ("can't wait to hear" gives no "wait hear").
    """

    def analyse(text: str) -> list[str]:
        words: list[str] = []
        bigrams: list[str] = []
        prev = None
        for tok in _tokens(text):
            tok = tok.removesuffix("'s")
            if len(tok) > 1 and tok not in stopwords and "'" not in tok:
                if prev is not None:
                    bigrams.append(f"{prev} {tok}")
                words.append(tok)
                # (the character pairs of a CJK run overlap: two of them make no two-word term)
                prev = None if cjk_characters(tok) else tok
            else:
                prev = None
        return words + bigrams

    return analyse


def text_terms(texts: Iterable[str]) -> set[str]:
    """Every term a topic label could take from ``texts``: the words and bigrams that
    :meth:`TopicModel.fit` counts (English and chat stopwords left out)."""
    analyse = _analyzer(_STOPWORDS)
    return {term for text in texts if text for term in analyse(text)}


def _ctfidf_terms(
    texts: Sequence[str],
    memberships: np.ndarray,
    n_terms: int,
    min_df: int,
    extra_stopwords: frozenset[str],
) -> list[list[str]]:
    """Distinctive terms per topic by class-based TF-IDF (as in BERTopic).

    Term counts are pooled per topic weighted by the units' memberships, normalised per topic
    (tf), and weighted by ``log(1 + A / f_t)`` with A the average pooled word count per topic
    and f_t the term's total count. A unigram already inside a chosen bigram, or a bigram
    whose words are both already chosen, is skipped.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    stop = _STOPWORDS | {unicodedata.normalize("NFKC", w).lower() for w in extra_stopwords}  # (as texts are read: "Zoë" typed apart)
    k = memberships.shape[1]
    counts = None
    for df in sorted({min_df, 1}, reverse=True):
        if df > len(texts):
            continue
        try:
            vec = CountVectorizer(analyzer=_analyzer(stop), min_df=df)
            counts = vec.fit_transform(list(texts))
            break
        except ValueError:  # empty vocabulary at this min_df
            continue
    if counts is None:
        logger.info("topic labels: no usable terms in the texts; topics left unlabelled")
        return [[] for _ in range(k)]
    vocab = vec.get_feature_names_out()
    class_counts = np.asarray((counts.T @ memberships).T)  # (k, V)
    totals = class_counts.sum(axis=1, keepdims=True)
    tf = class_counts / np.where(totals > 0, totals, 1.0)
    term_freq = class_counts.sum(axis=0)
    avg_words = totals.mean()
    idf = np.log1p(avg_words / np.where(term_freq > 0, term_freq, np.inf))
    scores = tf * idf
    # counted term by term: a fixed-width copy of the vocabulary (astype(str)) held every term at
    # the longest one's width (a 50,000-letter word pasted twice beside 1,000 words: a 430 MB peak)
    n_words = np.fromiter((term.count(" ") + 1 for term in vocab), dtype=np.int64, count=len(vocab))
    out: list[list[str]] = []
    for t in range(k):
        # best score first; on ties the bigram (more specific), then alphabetical
        order = np.lexsort((vocab, -n_words, -scores[t]))
        chosen: list[str] = []
        for j in order:
            if scores[t, j] <= 0 or len(chosen) >= n_terms:
                break
            term = str(vocab[j])
            words = term.split()
            covered = {w for c in chosen for w in c.split()}
            if len(words) == 1 and any(term in c.split() for c in chosen):
                continue
            if len(words) == 2 and set(words) <= covered:
                continue
            if len(words) == 2:
                # the bigram subsumes a chosen unigram of its own words
                chosen = [c for c in chosen if c not in words]
            chosen.append(term)
        out.append(chosen)
    return out


def membership_rows(memberships: np.ndarray) -> list[tuple[int, int, float]]:
    """Non-zero entries of a membership matrix as ``(unit_index, topic_index, p)`` rows.

    Args:
        memberships: Shape ``(n, k)``, e.g. from :meth:`TopicModel.assign`.

    Returns:
        Rows ordered by unit, then by descending ``p``.
    """
    m = np.asarray(memberships, dtype=np.float64)
    rows, cols = np.nonzero(m > 0)
    out = [(int(r), int(c), float(m[r, c])) for r, c in zip(rows, cols, strict=True)]
    out.sort(key=lambda row: (row[0], -row[2], row[1]))
    return out


def link_hierarchy(
    child_topic_memberships: np.ndarray,
    child_to_parent_unit: Sequence[int] | np.ndarray,
    parent_topic_memberships: np.ndarray,
    *,
    min_weight: float = 0.2,
    max_parents: int = 2,
) -> list[tuple[int, int, float]]:
    """``(Topic)-[:WITHIN]->(Topic)`` edges between two granularities.

    Each child unit (say an event) lies in one parent unit (its turn). The co-membership mass
    of child topic c and parent topic p is the sum over child units of
    ``child_membership[c] * parent_membership_of_its_parent_unit[p]``; normalised per child
    topic it says which share of topic c lies within topic p.

    Args:
        child_topic_memberships: Shape ``(n_child, k_child)`` (e.g. :meth:`TopicModel.assign`).
        child_to_parent_unit: Shape ``(n_child,)``, the parent unit row of each child unit;
            a negative value means none (the child is skipped).
        parent_topic_memberships: Shape ``(n_parent, k_parent)``.
        min_weight: Least normalised mass for an edge (the strongest parent is always kept).
        max_parents: Most parent topics per child topic.

    Returns:
        ``(child_topic, parent_topic, weight)`` rows, by child topic then descending weight;
        child topics with no mass get no edge.

    Raises:
        ValueError: On misaligned shapes or out-of-range parent indices.
    """
    c = np.asarray(child_topic_memberships, dtype=np.float64)
    p = np.asarray(parent_topic_memberships, dtype=np.float64)
    parent = np.asarray(child_to_parent_unit, dtype=np.int64)
    if c.ndim != 2 or p.ndim != 2 or parent.shape != (c.shape[0],):
        raise ValueError(
            "need child memberships (n_child, k_child), parents (n_child,) and parent "
            f"memberships (n_parent, k_parent); got {c.shape}, {parent.shape}, {p.shape}"
        )
    if parent.size and parent.max(initial=-1) >= p.shape[0]:
        raise ValueError(f"parent unit index {int(parent.max())} out of range {p.shape[0]}")
    has = parent >= 0
    mass = c[has].T @ p[parent[has]]  # (k_child, k_parent)
    totals = mass.sum(axis=1)
    edges: list[tuple[int, int, float]] = []
    for ct in range(mass.shape[0]):
        if totals[ct] <= 0:
            continue
        w = mass[ct] / totals[ct]
        order = np.lexsort((np.arange(w.size), -w))
        for rank, pt in enumerate(order[:max_parents]):
            if rank > 0 and w[pt] < min_weight:
                break
            if w[pt] <= 0:
                break
            edges.append((ct, int(pt), float(w[pt])))
    return edges
