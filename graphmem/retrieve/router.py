"""Query routing: read cues from the query, decide which strategies and granularities to use.

The cues come from :mod:`graphmem.retrieve.cues` (:class:`QueryFeatures`, re-exported here).

:func:`route` turns features (and, optionally, the entropy of the relevance distribution at
each granularity) into a :class:`RoutePlan`: one weight per scoring component. The plan is
deterministic and every decision is recorded in ``RoutePlan.reasons`` for explanations.

Components (keys of ``RoutePlan.weights``; see :mod:`graphmem.retrieve.hierarchy`):

==================== ==================================================================
``lexical:turn``     BM25 of the turn text
``dense:turn``       cosine of the query with the turn, max-pooled with its events
``lexical:episode``  BM25 of the turn's episode text, propagated down to its turns
``dense:episode``    cosine with the episode embedding, propagated down
``lexical:session``  BM25 of the session text, propagated down
``dense:session``    cosine with the session embedding, propagated down
``expansion:next``   graph expansion over ``NEXT``: the best adjacent turn's base score
``activation``       personalised PageRank from query names and the top hits
``time``             calendar match of the turn's date, or of a time its events state
                     ("last month"), with the query's explicit date
``when``             the turn states a time (an event with a resolved time expression),
                     for questions that ask for one ("When did ...", "what year ...")
==================== ==================================================================

The weights are fields of :class:`~graphmem.retrieve.config.RetrievalConfig`, each with the
measurement that set it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from graphmem.retrieve.config import RetrievalConfig
from graphmem.retrieve.cues import QueryFeatures, TimeCue, parse_time_cue

__all__ = [
    "QueryFeatures",
    "RoutePlan",
    "TimeCue",
    "parse_time_cue",
    "route",
]

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class RoutePlan:
    """What to run for one query and how to weigh it.

    Attributes:
        weights: component (see the module docstring) -> weight; absent or 0 = not run.
        time: the calendar constraint for the ``time`` component.
        episode_diversity: per-pick penalty for diversifying the turn ranking over episodes
            (0 = no diversification; see :func:`graphmem.retrieve.hierarchy.diversify`).
        seed_names: names to seed spreading activation with.
        reasons: human-readable decisions, in order.
    """

    weights: Mapping[str, float]
    time: TimeCue = field(default_factory=TimeCue)
    episode_diversity: float = 0.0
    seed_names: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()

    def uses(self, component: str) -> bool:
        """Whether ``component`` has a positive weight."""
        return self.weights.get(component, 0.0) > 0.0


_GRANULARITY_PARTS = {
    "turn": ("lexical:turn", "dense:turn"),
    "episode": ("lexical:episode", "dense:episode"),
    "session": ("lexical:session", "dense:session"),
}


def route(
    features: QueryFeatures,
    entropies: Mapping[str, float] | None,
    config: RetrievalConfig,
) -> RoutePlan:
    """Decide the scoring components and their weights for one query.

    Rules, in order:

    1. Start from ``config.base_weights``.
    2. A calendar constraint (a month or year, or a time expression resolved to days: see
       :class:`~graphmem.retrieve.cues.TimeCue`) adds the ``time`` component
       (``config.time_weight``); a question asking for a time adds the ``when`` component
       (``config.when_weight``).
    3. An aggregation cue scales the episode components by
       ``config.aggregation_episode_factor`` and asks for the turn ranking to be spread over
       episodes (``config.episode_diversity``).
    4. Names that are not known (candidate entities), or any known name when
       ``activation_weight`` is set, seed spreading activation with that weight.
    5. With ``config.entropy_route_temperature`` and ``entropies`` (granularity -> normalised
       entropy, see :func:`graphmem.retrieve.fusion.relevance_entropy`), the granularities'
       total weight is redistributed by ``softmax(-H / T)``: the more peaked a
       granularity's relevance distribution, the more it counts.

    Args:
        features: the query's features.
        entropies: granularity (``"turn"``, ``"episode"``, ``"session"``) -> entropy in [0, 1].
        config: the retrieval constants (weights and switches).

    Returns:
        The :class:`RoutePlan`.
    """
    weights = dict(config.base_weights)
    reasons = [f"base weights {sorted(weights.items())}"]
    if features.time and config.time_weight > 0:
        weights["time"] = config.time_weight
        reasons.append(f"date in the query ({features.time.describe()}) -> time match x{config.time_weight}")
    if features.asks_time and config.when_weight > 0:
        weights["when"] = config.when_weight
        reasons.append(f"asks for a time -> turns that state one x{config.when_weight}")
    diversity = 0.0
    if features.aggregation and config.episode_diversity > 0:
        diversity = config.episode_diversity
        reasons.append(f"aggregation cue -> turns spread over episodes (penalty {config.episode_diversity} per turn "
                       f"picked after {config.diversity_free} of an episode)")
    if features.aggregation and config.aggregation_episode_factor != 1.0:
        for key in _GRANULARITY_PARTS["episode"]:
            if key in weights:
                weights[key] *= config.aggregation_episode_factor
        reasons.append(f"aggregation cue -> episode weights x{config.aggregation_episode_factor}")
    seeds = tuple(features.names) + tuple(features.candidate_names)
    if config.activation_weight > 0 and seeds:
        weights["activation"] = config.activation_weight
        reasons.append(f"names {list(seeds)} -> spreading activation x{config.activation_weight}")
    if config.entropy_route_temperature is not None and entropies:
        present = [g for g in _GRANULARITY_PARTS if g in entropies and any(k in weights for k in _GRANULARITY_PARTS[g])]
        if len(present) >= 2:
            totals = {g: sum(weights.get(k, 0.0) for k in _GRANULARITY_PARTS[g]) for g in present}
            grand = sum(totals.values())
            logits = [-entropies[g] / config.entropy_route_temperature for g in present]
            top = max(logits)
            exp = [math.exp(v - top) for v in logits]
            share = {g: e / sum(exp) for g, e in zip(present, exp)}
            for g in present:
                if totals[g] <= 0:
                    continue
                factor = grand * share[g] / totals[g]
                for key in _GRANULARITY_PARTS[g]:
                    if key in weights:
                        weights[key] *= factor
            reasons.append(
                "entropy re-weighting " + ", ".join(f"{g}: H={entropies[g]:.2f} share={share[g]:.2f}" for g in present)
            )
    plan = RoutePlan(weights=weights, time=features.time, episode_diversity=diversity, seed_names=seeds, reasons=tuple(reasons))
    logger.debug("route for %r: %s", features.text, plan.reasons)
    return plan

