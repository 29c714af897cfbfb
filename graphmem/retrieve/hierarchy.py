"""Hierarchical scoring: combine evidence from events, turns, episodes and sessions into one
turn ranking, then rank sessions from it.

Scores at every granularity are calibrated *at their own level* (min-max over the units that
were scored) and then moved to turns along the memory structure:

* up from events: a turn's dense score is the best of its own embedding and its events'
  (:func:`pool_max`; an Event is one proposition, so a turn's relevance is its most relevant
  proposition's);
* down from episodes and sessions: every turn inherits its episode's (session's) calibrated
  score (:func:`broadcast`);
* sideways along ``NEXT``: graph expansion gives a turn the best calibrated turn-level
  evidence of itself and its adjacent turns (:func:`neighbour_max`), because an answer often
  sits next to the turn that matches the question;
* from the calendar: turns whose date matches an explicit date in the query
  (:func:`time_match`).

The turn score is the weighted sum (weights from :class:`graphmem.retrieve.router.RoutePlan`)::

    score(t) = w_lt * L_turn(t) + w_dt * D_turn(t)
             + w_le * L_episode(ep(t)) + w_de * D_episode(ep(t))
             + w_ls * L_session(s(t)) + w_ds * D_session(s(t))
             + w_x  * max_{u in {t} + NEXT(t)} B(u)
             + w_a  * A(t) + w_time * T(t)

with ``L``/``D`` the min-max calibrated lexical/dense scores, ``B(u)`` the weighted mean of
``L_turn`` and ``D_turn`` of ``u``, ``A`` calibrated activation, ``T`` the calendar match.
A session (episode) scores its best turn (see :mod:`graphmem.retrieve.strategies`).

Everything here is pure numpy over positions: the caller maps node ids to positions.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from graphmem.retrieve.fusion import FusedScores, normalize
from graphmem.retrieve.router import RoutePlan, TimeCue
from graphmem.retrieve.types import pool_max

__all__ = [
    "TurnSignals",
    "TurnStructure",
    "broadcast",
    "diversify",
    "neighbour_max",
    "pool_max",
    "score_turns",
    "span_match",
    "time_match",
]

logger = logging.getLogger(__name__)


def broadcast(parent_scores: np.ndarray, unit_parent: np.ndarray, fill: float = np.nan) -> np.ndarray:
    """Give every unit its parent's score (e.g. episodes -> turns).

    Args:
        parent_scores: score per parent.
        unit_parent: parent position per unit (``-1`` = none).
        fill: the score of a unit without a parent.

    Returns:
        Array over units; ``fill`` where the unit has no parent.
    """
    parent_scores = np.asarray(parent_scores, dtype=np.float64)
    unit_parent = np.asarray(unit_parent, dtype=np.int64)
    # one gather from the scores with ``fill`` in a pad slot for "no parent" (a masked scatter
    # and a pass for NaN took 1.6 ms per component at 100k turns)
    return np.append(parent_scores, fill)[np.where(unit_parent >= 0, unit_parent, len(parent_scores))]


def diversify(scores: np.ndarray, group: np.ndarray, penalty: float, depth: int, free: int = 1) -> np.ndarray:
    """Spread the best units over groups (e.g. turns over sessions), MMR-style.

    Greedy over the ``depth`` best units: once ``free`` units of a group are picked, each
    further pick lowers every unit of the same group still to be picked by ``penalty``, so the
    next pick from a well-represented group needs to beat the best of another group by that much. Units beyond ``depth`` follow the picks,
    lowered by ``penalty`` per pick of their group, but never below the lowest score. The
    returned scores rank the units in that order (ties by position), so any top ``k <= depth``
    is the greedy selection, down to the picks at the lowest score (units at that floor, such
    as the unscored mass, tie among themselves).

    Args:
        scores: score per unit (non-finite = not ranked; left as is).
        group: group position per unit (``-1`` = in no group: never penalised).
        penalty: score lowered per unit of the same group picked before (0 = no change).
        depth: how many units are picked greedily.
        free: picks per group before the penalty starts (1: from the second pick on).

    Returns:
        The diversified scores (a new array).
    """
    s = np.asarray(scores, dtype=np.float64)
    out = s.copy()
    if penalty <= 0 or not len(s):
        return out
    group = np.asarray(group, dtype=np.int64)
    finite = np.flatnonzero(np.isfinite(s))
    if not len(finite):
        return out
    # the ``depth`` best by (score, position) without sorting every unit (100k turns: ~10 ms),
    # and the k-th of them found among the units above the floor most of them sit at
    values = s[finite]
    floor = values.min()
    if len(finite) > depth:
        lifted = values[values > floor]
        kth = np.partition(lifted, len(lifted) - depth)[len(lifted) - depth] if len(lifted) >= depth else floor
        above = finite[values > kth]
        chosen = np.concatenate([above, finite[values == kth][: depth - len(above)]])
    else:
        chosen = finite
    pool = chosen[np.lexsort((chosen, -s[chosen]))]
    # greedy over the pool, in arrays (a list per pick took 2 ms at depth 50): each pool unit's
    # group as its number among the pool's distinct groups, the picks per such group, the units left
    pool_scores, pool_group = s[pool], group[pool]
    grouped = pool_group >= 0
    groups, local = np.unique(pool_group, return_inverse=True)
    picks = np.zeros(len(groups))
    left = np.ones(len(pool), dtype=bool)
    last = np.inf
    for _ in range(len(pool)):
        adjusted = np.where(grouped, pool_scores - penalty * np.maximum(picks[local] - free + 1, 0), pool_scores)
        best = int(np.argmax(np.where(left, adjusted, -np.inf)))  # first of equals: the better original rank
        left[best] = False
        last = min(last, float(adjusted[best]))
        out[pool[best]] = last
        if grouped[best]:
            picks[local[best]] += 1
    in_pool = np.zeros(len(s), dtype=bool)
    in_pool[pool] = True
    rest = np.isfinite(s) & ~in_pool
    if rest.any():  # vectorised: at 100k turns a loop over the rest took ~140 ms
        # the penalty of each group's picks (a group without one: that of none), 0 outside a group
        penalties = np.full(int(group.max()) + 2 if group.max() >= 0 else 1, penalty * max(1 - free, 0), dtype=np.float64)
        penalties[-1] = 0.0
        for g, c in zip(groups.tolist(), picks.tolist()):
            if g >= 0:
                penalties[g] = penalty * max(c - free + 1, 0)
        lowered = s - penalties[np.where(group >= 0, group, len(penalties) - 1)]
        # never below the lowest score: the mass of unscored units stays one floor, which
        # top_k skips (pushing some below it made top_k partition all of them, 5-66 ms at 100k)
        np.copyto(out, np.minimum(np.maximum(lowered, floor), last), where=rest)
    return out


def neighbour_max(
    scores: np.ndarray, prev_unit: np.ndarray, next_unit: np.ndarray, include_self: bool = True
) -> np.ndarray:
    """Best score among a unit's ``NEXT`` neighbours (and itself).

    Args:
        scores: score per unit (``NaN`` treated as absent).
        prev_unit: position of the previous unit (``-1`` = none, e.g. at a session start).
        next_unit: position of the next unit (``-1`` = none).
        include_self: also consider the unit's own score.

    Returns:
        Array over units; ``NaN`` where nothing was available.
    """
    s = np.asarray(scores, dtype=np.float64)
    n = len(s)
    # one gather per direction from the scores with a -inf slot at ``n`` for "no neighbour"
    # (masked gathers and scatters took 2-5 ms a query at 100k turns); not two calls of
    # broadcast, which would pad the scores once per direction (0.4 ms more at 100k)
    padded = np.empty(n + 1)
    padded[:n] = np.where(np.isfinite(s), s, -np.inf)
    padded[n] = -np.inf
    prev_unit, next_unit = np.asarray(prev_unit, dtype=np.int64), np.asarray(next_unit, dtype=np.int64)
    best = np.maximum(padded[np.where(prev_unit >= 0, prev_unit, n)], padded[np.where(next_unit >= 0, next_unit, n)])
    if include_self:
        np.maximum(best, padded[:n], out=best)
    best[~np.isfinite(best)] = np.nan
    return best


def time_match(cue: TimeCue, years: np.ndarray, months: np.ndarray, year_mismatch: float) -> np.ndarray:
    """Calendar match of each unit's date with the query's explicit date.

    Args:
        cue: the query's time constraint.
        years: year per unit (0 = unknown).
        months: month per unit (0 = unknown).
        year_mismatch: the match of a date whose month matches but whose year does not
            (``RetrievalConfig.time_year_mismatch``).

    Returns:
        Array in ``[0, 1]`` over units (0 for unknown dates or a cue without months and years).
    """
    years = np.asarray(years, dtype=np.int64)
    months = np.asarray(months, dtype=np.int64)
    out = np.zeros(len(years))
    if not (cue.months or cue.years):
        return out
    # Vectorised TimeCue.match: the month must match when given; a wrong year scales by
    # year_mismatch when a month is given and zeroes the match otherwise.
    known = (years > 0) & (months > 0)
    month_ok = np.isin(months, cue.months) if cue.months else np.ones(len(months), dtype=bool)
    year_ok = np.isin(years, cue.years) if cue.years else np.ones(len(years), dtype=bool)
    out[known & month_ok & year_ok] = 1.0
    if cue.months:
        out[known & month_ok & ~year_ok] = year_mismatch
    return out


def span_match(cue: TimeCue, first: np.ndarray, last: np.ndarray, year_mismatch: float) -> np.ndarray:
    """Calendar match of each event's resolved time span with the query's explicit date.

    An event matches when a month of its span (``first`` to ``last``, months since 1970-01;
    ``-1`` = no time) is one the query names in a year it names, as :func:`time_match`
    scores a single date (spans longer than a year are read through their first twelve
    months).

    Returns:
        Array in ``[0, 1]`` over events.
    """
    first = np.asarray(first, dtype=np.int64)
    last = np.asarray(last, dtype=np.int64)
    out = np.zeros(len(first))
    if not (cue.months or cue.years) or not len(first):
        return out
    known = first >= 0
    for offset in range(12):
        month = first + offset
        inside = known & (month <= last)
        if not inside.any():
            break
        matched = time_match(cue, np.where(inside, month // 12 + 1970, 0), np.where(inside, month % 12 + 1, 0), year_mismatch)
        out = np.maximum(out, matched)
    return out


def day_match(spans: Sequence[tuple[int, int]], first: np.ndarray, last: np.ndarray, slack: float) -> np.ndarray:
    """Match of each unit's days (``first`` to ``last``, days since 1970-01-01; NaN = no
    time) with the query's resolved time expressions (``TimeCue.spans``).

    Per expression of ``n`` days: 1 for a unit within it, falling linearly to 0 at
    ``ceil(slack * n) + 1`` days outside it (``RetrievalConfig.time_day_slack``; at 0.25
    "last Saturday" matches the day before or after at 0.5, "two weeks ago" a day outside
    the week at 2/3), scaled by how specific the unit's own time is (``n`` over the unit's
    length in days, at most 1: an event stated as "this month" matches "last Saturday" at
    1/31). The best expression counts.

    Returns:
        Array in ``[0, 1]`` over units.
    """
    first = np.asarray(first, dtype=np.float64)
    last = np.asarray(last, dtype=np.float64)
    out = np.zeros(len(first))
    known = np.isfinite(first) & np.isfinite(last)
    if not spans or not known.any():
        return out
    lo, hi = first[known], np.maximum(last[known], first[known])
    best = np.zeros(len(lo))
    for start, end in spans:
        length = end - start + 1
        gap = np.maximum(np.maximum(start - hi, lo - end), 0.0)
        near = np.clip(1.0 - gap / (math.ceil(slack * length) + 1), 0.0, 1.0)
        best = np.maximum(best, near * np.minimum(1.0, length / (hi - lo + 1)))
    out[known] = best
    return out


@dataclass(frozen=True)
class TurnStructure:
    """The memory structure around the turns being ranked (positions, not ids).

    Attributes:
        n_turns: number of turns.
        turn_episode: episode position per turn (``-1`` = none).
        turn_session: session position per turn (``-1`` = none).
        prev_turn: previous turn in the same session (``-1`` = none).
        next_turn: next turn in the same session (``-1`` = none).
        event_turn: turn position per event (``Event-[:FROM]->Turn``).
        turn_year: year of each turn's date (session start; 0 = unknown).
        turn_month: month of each turn's date (0 = unknown).
        n_episodes: number of episodes.
        n_sessions: number of sessions.
        event_months: ``(first, last)`` month (months since 1970-01) each event's time
            expression resolved to (``-1``: none); ``None``: not known.
        turn_states_time: 1.0 for turns with an event that states a time, else 0.0.
        turn_days: day of each turn's date (days since 1970-01-01, NaN = unknown).
        event_days: ``(first, last)`` day each event's time expression resolved to (NaN:
            none).
    """

    n_turns: int
    turn_episode: np.ndarray
    turn_session: np.ndarray
    prev_turn: np.ndarray
    next_turn: np.ndarray
    event_turn: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    turn_year: np.ndarray | None = None
    turn_month: np.ndarray | None = None
    n_episodes: int = 0
    n_sessions: int = 0
    event_months: tuple[np.ndarray, np.ndarray] | None = None
    turn_states_time: np.ndarray | None = None
    turn_days: np.ndarray | None = None
    event_days: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def from_sequence(
        cls,
        turn_session: Sequence[int],
        turn_episode: Sequence[int] | None = None,
        event_turn: Sequence[int] = (),
        turn_year: Sequence[int] | None = None,
        turn_month: Sequence[int] | None = None,
    ) -> TurnStructure:
        """Build from turns listed in conversation order (``NEXT`` = the following turn of
        the same session).

        Args:
            turn_session: session position per turn, turns in order.
            turn_episode: episode position per turn (default: none).
            event_turn: turn position per event.
            turn_year: year per turn (0 = unknown).
            turn_month: month per turn (0 = unknown).

        Returns:
            The structure.
        """
        sess = np.asarray(turn_session, dtype=np.int64)
        n = len(sess)
        same_next = np.zeros(n, dtype=bool)
        if n > 1:
            same_next[:-1] = sess[:-1] == sess[1:]
        nxt = np.where(same_next, np.arange(n) + 1, -1)
        prv = np.full(n, -1)
        prv[1:] = np.where(same_next[:-1], np.arange(n - 1), -1)
        ep = np.asarray(turn_episode if turn_episode is not None else np.full(n, -1), dtype=np.int64)
        return cls(
            n_turns=n,
            turn_episode=ep,
            turn_session=sess,
            prev_turn=prv,
            next_turn=nxt,
            event_turn=np.asarray(event_turn, dtype=np.int64),
            turn_year=None if turn_year is None else np.asarray(turn_year, dtype=np.int64),
            turn_month=None if turn_month is None else np.asarray(turn_month, dtype=np.int64),
            n_episodes=int(ep.max()) + 1 if n and ep.max() >= 0 else 0,
            n_sessions=int(sess.max()) + 1 if n else 0,
        )


@dataclass(frozen=True)
class TurnSignals:
    """Raw scores of one query at every granularity (``None`` = strategy not run; ``NaN``
    inside an array = unit not retrieved, e.g. outside an ANN top-k).

    Attributes:
        lexical_turn: BM25 per turn.
        dense_turn: cosine per turn (turn embedding; or already max-pooled with its events).
        dense_event: cosine per event, max-pooled into ``dense_turn`` (``None``: not pooled).
        lexical_episode: BM25 per episode.
        dense_episode: cosine per episode.
        lexical_session: BM25 per session.
        dense_session: cosine per session.
        activation: spreading-activation score per turn.
    """

    lexical_turn: np.ndarray | None = None
    dense_turn: np.ndarray | None = None
    dense_event: np.ndarray | None = None
    lexical_episode: np.ndarray | None = None
    dense_episode: np.ndarray | None = None
    lexical_session: np.ndarray | None = None
    dense_session: np.ndarray | None = None
    activation: np.ndarray | None = None


def _dense_turn(structure: TurnStructure, signals: TurnSignals) -> np.ndarray | None:
    turn = None if signals.dense_turn is None else np.asarray(signals.dense_turn, dtype=np.float64)
    if signals.dense_event is not None and len(structure.event_turn):
        pooled = pool_max(signals.dense_event, structure.event_turn, structure.n_turns)
        turn = pooled if turn is None else np.fmax(turn, pooled)  # as QueryContext.dense_turn pools them
    return None if turn is None else np.where(np.isfinite(turn), turn, np.nan)


def _months_of(spans: Sequence[tuple[int, int]]) -> set[int]:
    """The months (1-12) of the first and last days of ``spans`` (days since 1970-01-01)."""
    epoch = np.datetime64("1970-01-01")
    return {int(str(epoch + np.timedelta64(day, "D"))[5:7]) for span in spans for day in span}


def _days_match(structure: TurnStructure, spans: Sequence[tuple[int, int]], slack: float) -> np.ndarray:
    """:func:`day_match` of each turn by its own date and by the days its events tell of."""
    if structure.turn_days is None:
        return np.zeros(structure.n_turns)
    match = day_match(spans, structure.turn_days, structure.turn_days, slack)
    if structure.event_days is not None and len(structure.event_turn):
        said = day_match(spans, *structure.event_days, slack)
        match = np.maximum(match, np.nan_to_num(pool_max(said, structure.event_turn, structure.n_turns), nan=0.0))
    return match


def score_turns(
    structure: TurnStructure,
    signals: TurnSignals,
    plan: RoutePlan,
    ids: Sequence[Hashable] | None = None,
    *,
    time_year_mismatch: float,
    time_day_slack: float = 0.0,
    time_day_mismatch: float = 1.0,
    normalization: str = "minmax",
    expansion_include_self: bool = True,
) -> FusedScores:
    """Score every turn from all granularities (see the module docstring for the formula).

    Args:
        structure: positions of episodes, sessions, neighbours, events and dates.
        signals: raw scores of the query.
        plan: component weights (components without a signal are skipped and logged).
        ids: turn ids carried into the result.
        time_year_mismatch: see :func:`time_match`.
        time_day_slack: see :func:`day_match`.
        time_day_mismatch: the match of a unit in the month of a day the query names
            (``TimeCue.dates``) but not near that day (``RetrievalConfig.time_day_mismatch``;
            1 = the month is enough).
        normalization: calibration applied at each unit level (see
            :func:`graphmem.retrieve.fusion.normalize`).
        expansion_include_self: whether expansion considers the turn itself besides its
            ``NEXT`` neighbours.

    Returns:
        :class:`FusedScores` over turns; contributions keyed by component name.
    """
    n = structure.n_turns
    w = plan.weights
    calibrated: dict[str, np.ndarray] = {}

    def add(name: str, raw: np.ndarray | None, parent: np.ndarray | None = None) -> None:
        if w.get(name, 0.0) <= 0:
            return
        if raw is None:
            logger.debug("component %s has no signal; skipped", name)
            return
        norm = normalize(raw, normalization)  # NaN (not retrieved) -> 0
        if parent is not None:
            norm = broadcast(norm, parent, fill=0.0)
        calibrated[name] = norm

    add("lexical:turn", signals.lexical_turn)
    add("dense:turn", _dense_turn(structure, signals))
    add("lexical:episode", signals.lexical_episode, structure.turn_episode)
    add("dense:episode", signals.dense_episode, structure.turn_episode)
    add("lexical:session", signals.lexical_session, structure.turn_session)
    add("dense:session", signals.dense_session, structure.turn_session)
    add("activation", signals.activation)

    contributions = {name: w[name] * values for name, values in calibrated.items()}
    if w.get("expansion:next", 0.0) > 0:
        base_keys = [k for k in ("lexical:turn", "dense:turn") if k in calibrated]
        if base_keys:
            total = sum(w[k] for k in base_keys)
            base = sum(w[k] * calibrated[k] for k in base_keys) / total
            expanded = neighbour_max(base, structure.prev_turn, structure.next_turn, expansion_include_self)
            contributions["expansion:next"] = w["expansion:next"] * np.nan_to_num(expanded, nan=0.0)
        else:
            logger.debug("expansion:next needs turn-level evidence; skipped")
    if w.get("time", 0.0) > 0:
        if structure.turn_year is None or structure.turn_month is None:
            logger.debug("time component without turn dates; skipped")
        elif plan.time:
            match = time_match(plan.time, structure.turn_year, structure.turn_month, time_year_mismatch)
            if structure.event_months is not None and len(structure.event_turn):
                said = span_match(plan.time, *structure.event_months, time_year_mismatch)  # "last month", "in May"
                match = np.maximum(match, np.nan_to_num(pool_max(said, structure.event_turn, n), nan=0.0))
            if plan.time.dates and structure.turn_days is not None:  # "on May 3, 2023": that day more than its month
                if set(plan.time.months) <= _months_of(plan.time.dates):  # (not "on May 3 and in June": June stays whole)
                    match = np.minimum(match, time_day_mismatch)
                match = np.maximum(match, _days_match(structure, plan.time.dates, time_day_slack))
            if plan.time.spans and structure.turn_days is not None:  # "last Saturday", "two weeks ago"
                match = np.maximum(match, _days_match(structure, plan.time.spans, time_day_slack))
            contributions["time"] = w["time"] * match
    if w.get("when", 0.0) > 0 and structure.turn_states_time is not None:
        contributions["when"] = w["when"] * structure.turn_states_time
    total = np.zeros(n)
    for part in contributions.values():
        total = total + part
    return FusedScores(total, contributions, ids)
