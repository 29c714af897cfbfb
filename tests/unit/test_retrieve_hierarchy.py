"""Hierarchical turn scoring on a hand-made two-session conversation."""

from __future__ import annotations

import numpy as np
import pytest

from graphmem.retrieve.hierarchy import (
    TurnSignals,
    TurnStructure,
    broadcast,
    diversify,
    neighbour_max,
    pool_max,
    score_turns,
    time_match,
)
from graphmem.retrieve.router import RoutePlan, TimeCue
from graphmem.retrieve.types import top_k

NAN = float("nan")


def test_pool_broadcast_neighbours():
    np.testing.assert_allclose(pool_max(np.array([0.2, 0.9, 0.4, NAN]), np.array([0, 0, 2, 1]), 3), [0.9, NAN, 0.4])
    np.testing.assert_allclose(broadcast(np.array([0.1, 0.7]), np.array([1, -1, 0])), [0.7, NAN, 0.1])
    s = np.array([0.1, 0.8, 0.3, 0.9])
    prev, nxt = np.array([-1, 0, 1, -1]), np.array([1, 2, -1, -1])
    np.testing.assert_allclose(neighbour_max(s, prev, nxt), [0.8, 0.8, 0.8, 0.9])
    np.testing.assert_allclose(neighbour_max(s, prev, nxt, include_self=False), [0.8, 0.3, 0.8, NAN])
    np.testing.assert_allclose(
        time_match(TimeCue((6,), (2023,)), np.array([2023, 2022, 2023, 0]), np.array([6, 6, 7, 6]), 0.5), [1.0, 0.5, 0.0, 0.0]
    )


def _structure() -> TurnStructure:
    # session 0: turns 0,1,2 (episode 0 = 0,1; episode 1 = 2); session 1: turn 3 (episode 2)
    return TurnStructure.from_sequence(
        turn_session=[0, 0, 0, 1],
        turn_episode=[0, 0, 1, 2],
        event_turn=[0, 1, 1, 3],
        turn_year=[2023, 2023, 2023, 2023],
        turn_month=[5, 5, 5, 6],
    )


def test_structure_from_sequence():
    st = _structure()
    assert st.prev_turn.tolist() == [-1, 0, 1, -1]
    assert st.next_turn.tolist() == [1, 2, -1, -1]
    assert (st.n_episodes, st.n_sessions) == (3, 2)


def test_score_turns_hand_computed():
    st = _structure()
    signals = TurnSignals(
        lexical_turn=np.array([0.0, 4.0, 2.0, NAN]),  # minmax -> [0, 1, .5, 0]
        dense_turn=np.array([0.1, 0.2, 0.5, 0.3]),
        dense_event=np.array([0.4, 0.1, 0.3, 0.5]),  # pooled with turns -> [.4, .3, .5, .5]; minmax -> [.5, 0, 1, 1]
        lexical_episode=np.array([3.0, 0.0, 1.0]),  # minmax -> [1, 0, 1/3] -> turns [1, 1, 0, 1/3]
    )
    plan = RoutePlan(
        weights={"lexical:turn": 1.0, "dense:turn": 1.0, "lexical:episode": 0.5, "expansion:next": 0.5, "time": 1.0},
        time=TimeCue((6,), ()),
    )
    fused = score_turns(st, signals, plan, ids=["t0", "t1", "t2", "t3"], time_year_mismatch=0.5)
    lexical = np.array([0.0, 1.0, 0.5, 0.0])
    dense = np.array([0.5, 0.0, 1.0, 1.0])
    episode = 0.5 * np.array([1.0, 1.0, 0.0, 1 / 3])
    base = (lexical + dense) / 2  # [.25, .5, .75, .5]
    # best of itself and its NEXT neighbours in the same session (t3 is alone in session 1)
    expansion = 0.5 * np.array([max(base[0], base[1]), max(base[:3]), max(base[1:3]), base[3]])
    np.testing.assert_allclose(expansion, [0.25, 0.375, 0.375, 0.25])
    time = np.array([0.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(fused.contributions["lexical:turn"], lexical)
    np.testing.assert_allclose(fused.contributions["dense:turn"], dense)
    np.testing.assert_allclose(fused.contributions["lexical:episode"], episode)
    np.testing.assert_allclose(fused.contributions["expansion:next"], expansion)
    np.testing.assert_allclose(fused.scores, lexical + dense + episode + expansion + time)
    np.testing.assert_allclose(fused.scores, [1.25, 1.875, 1.875, 2.75 - 1 / 3])
    assert [hit[0] for hit in fused.top(4)] == ["t3", "t1", "t2", "t0"]  # t1/t2 tie: earlier first
    assert set(fused.explain(0)) == {"lexical:turn", "dense:turn", "lexical:episode", "expansion:next", "time"}


def test_missing_signals_are_skipped():
    st = _structure()
    plan = RoutePlan(weights={"lexical:turn": 1.0, "dense:episode": 1.0, "time": 1.0})
    fused = score_turns(st, TurnSignals(lexical_turn=np.array([1.0, 2.0, 3.0, 0.0])), plan, time_year_mismatch=0.5)
    assert set(fused.contributions) == {"lexical:turn"}  # no episode signal, no time cue
    np.testing.assert_allclose(fused.scores, [1 / 3, 2 / 3, 1.0, 0.0])
    with pytest.raises(ValueError):
        pool_max(np.zeros(2), np.zeros(3, dtype=int), 1)


def test_diversify_spreads_the_top_over_groups():
    scores = np.array([5.0, 4.9, 4.8, 3.0, 2.0, NAN])
    group = np.array([0, 0, 0, 1, 2, 0])
    out = diversify(scores, group, penalty=1.0, depth=10)
    # picks: t0 5.0, t1 4.9 - 1 = 3.9, t3 3.0 (new group), t2 4.8 - 2 = 2.8, t4 2.0
    np.testing.assert_allclose(out[:5], [5.0, 3.9, 2.8, 3.0, 2.0])
    assert np.isnan(out[5])
    assert [int(i) for i in np.argsort(-out[:5], kind="stable")] == [0, 1, 3, 2, 4]
    np.testing.assert_allclose(diversify(scores, group, penalty=0.0, depth=10)[:5], scores[:5])
    # beyond the depth, units follow the picks and never overtake them
    shallow = diversify(scores, group, penalty=1.0, depth=2)
    assert shallow[3] <= shallow[1] and shallow[2] <= shallow[1]
    # a unit in no group is never penalised
    np.testing.assert_allclose(diversify(np.array([2.0, 1.9]), np.array([-1, -1]), 1.0, 5), [2.0, 1.9])


def test_diversify_lets_a_quota_per_group_through_unpenalised():
    scores = np.array([5.0, 4.9, 4.8, 3.0])
    group = np.array([0, 0, 0, 1])
    out = diversify(scores, group, penalty=2.0, depth=10, free=2)
    # t0 and t1 are free; t2 pays one penalty and falls behind t3
    np.testing.assert_allclose(out, [5.0, 4.9, 2.8, 3.0])
    assert [int(i) for i in np.argsort(-out, kind="stable")] == [0, 1, 3, 2]
    assert diversify(scores, group, penalty=1.0, depth=10, free=1)[1] == pytest.approx(3.9)


def _month(year: int, month: int) -> int:
    return (year - 1970) * 12 + month - 1


def test_span_match_reads_every_month_of_a_resolved_span():
    from graphmem.retrieve.hierarchy import span_match

    first = np.array([_month(2023, 5), _month(2022, 1), _month(2023, 4), -1, _month(2022, 6)])
    last = np.array([_month(2023, 5), _month(2022, 12), _month(2023, 4), -1, _month(2022, 6)])
    # "in May" (2023), "last year" (2022, every month), April 2023, no time, June 2022
    np.testing.assert_allclose(span_match(TimeCue((5,), (2023,)), first, last, 0.5), [1.0, 0.5, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(span_match(TimeCue((), (2022,)), first, last, 0.5), [0.0, 1.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(span_match(TimeCue((6,), ()), first, last, 0.5), [0.0, 1.0, 0.0, 0.0, 1.0])
    assert not span_match(TimeCue(), first, last, 0.5).any()


def test_time_and_when_components_use_what_events_state():
    # turn 1 (May session) says something happened in April 2023; turn 3 states no time
    st = TurnStructure(**{**_structure().__dict__, "event_months": (
        np.array([-1, _month(2023, 4), -1, -1]), np.array([-1, _month(2023, 4), -1, -1])),
        "turn_states_time": np.array([0.0, 1.0, 0.0, 0.0])})
    signals = TurnSignals(lexical_turn=np.array([1.0, 1.0, 1.0, 1.0]))
    april = score_turns(st, signals, RoutePlan({"time": 1.0}, time=TimeCue((4,), (2023,))), time_year_mismatch=0.5)
    np.testing.assert_allclose(april.contributions["time"], [0.0, 1.0, 0.0, 0.0])  # the session dates are May and June
    when = score_turns(st, signals, RoutePlan({"lexical:turn": 1.0, "when": 0.5}), time_year_mismatch=0.5)
    np.testing.assert_allclose(when.contributions["when"], [0.0, 0.5, 0.0, 0.0])
    plain = score_turns(st, signals, RoutePlan({"lexical:turn": 1.0}), time_year_mismatch=0.5)
    assert "when" not in plain.contributions


def test_diversify_keeps_the_unscored_floor_and_matches_a_full_sort():
    """Units beyond the depth are never pushed below the lowest score (the mass of unscored
    units stays one floor that top_k skips), and the greedy picks are those a full sort gives."""
    rng = np.random.default_rng(7)
    scores = np.zeros(5000)
    scored = rng.choice(5000, 300, replace=False)
    scores[scored] = rng.random(300) * 3
    group = rng.integers(0, 400, 5000)
    out = diversify(scores, group, penalty=0.5, depth=50, free=2)
    assert out.min() == 0.0 and np.count_nonzero(out == 0.0) >= np.count_nonzero(scores == 0.0)
    top = top_k(out, 50)
    picks: dict[int, int] = {}
    for unit in top[:10]:  # each pick beyond the free ones of its group paid the penalty
        picks[int(group[unit])] = picks.get(int(group[unit]), 0) + 1
        assert out[unit] == pytest.approx(scores[unit] - 0.5 * max(picks[int(group[unit])] - 2, 0))
    assert set(top[:10]) <= set(scored)


def test_day_match_hand_values():
    from graphmem.retrieve.hierarchy import day_match

    nan = np.nan
    # units: the day itself, a day off, two days off, a 31-day span holding it, unknown, a week holding it
    first = np.array([100.0, 101.0, 102.0, 90.0, nan, 98.0])
    last = np.array([100.0, 101.0, 102.0, 120.0, nan, 104.0])
    np.testing.assert_allclose(day_match(((100, 100),), first, last, 0.25), [1.0, 0.5, 0.0, 1 / 31, 0.0, 1 / 7])
    # a week: within it 1, falling to 0 three days outside it; the best expression counts
    week = ((94, 100),)
    np.testing.assert_allclose(day_match(week, first, last, 0.25), [1.0, 2 / 3, 1 / 3, 7 / 31, 0.0, 1.0])
    np.testing.assert_allclose(day_match(((100, 100), (102, 102)), first, last, 0.25)[:3], [1.0, 0.5, 1.0])
    assert not day_match((), first, last, 0.25).any()
    # no slack: only the days themselves
    np.testing.assert_allclose(day_match(week, first, last, 0.0)[:3], [1.0, 0.0, 0.0])


def test_time_component_matches_resolved_days_of_turns_and_events():
    # the turns were said on days 10, 10, 20, 21; an event of turn 1 says it happened on day 3
    events = np.array([np.nan, 3.0, np.nan, np.nan])
    st = TurnStructure(**{**_structure().__dict__, "turn_days": np.array([10.0, 10.0, 20.0, 21.0]), "event_days": (events, events)})
    signals = TurnSignals(lexical_turn=np.array([1.0, 1.0, 1.0, 1.0]))
    day3 = score_turns(st, signals, RoutePlan({"time": 1.0}, time=TimeCue(spans=((3, 3),))), time_year_mismatch=0.5)
    np.testing.assert_allclose(day3.contributions["time"], [0.0, 1.0, 0.0, 0.0])
    day20 = score_turns(st, signals, RoutePlan({"time": 1.0}, time=TimeCue(spans=((20, 20),))), time_year_mismatch=0.5,
                        time_day_slack=0.25)
    np.testing.assert_allclose(day20.contributions["time"], [0.0, 0.0, 1.0, 0.5])


def test_a_day_named_outranks_the_rest_of_its_month():
    # turns said on May 10, 11 and 20 of 2023 and on April 10; an event of the April turn tells of
    # June 9 (the day named below)
    from datetime import date

    def day(month: int, d: int) -> float:
        return float((date(2023, month, d) - date(1970, 1, 1)).days)

    months = np.array([5, 5, 5, 4])
    events = np.array([np.nan, np.nan, np.nan, day(6, 9)])
    st = TurnStructure(**{**_structure().__dict__, "turn_year": np.full(4, 2023), "turn_month": months,
                          "turn_days": np.array([day(5, 10), day(5, 11), day(5, 20), day(4, 10)]), "event_days": (events, events)})
    signals = TurnSignals(lexical_turn=np.array([1.0, 1.0, 1.0, 1.0]))
    may10 = (int(day(5, 10)),) * 2
    cue = TimeCue((5,), (2023,), (10,), dates=(may10,))
    fused = score_turns(st, signals, RoutePlan({"time": 1.0}, time=cue), time_year_mismatch=0.5, time_day_slack=0.25,
                        time_day_mismatch=0.5)
    # the day 1, the day after within the slack 0.5, the rest of the month 0.5, another month 0
    np.testing.assert_allclose(fused.contributions["time"], [1.0, 0.5, 0.5, 0.0])
    told = score_turns(st, signals, RoutePlan({"time": 1.0}, time=TimeCue((6,), (2023,), dates=((int(day(6, 9)),) * 2,))),
                       time_year_mismatch=0.5, time_day_mismatch=0.5)
    np.testing.assert_allclose(told.contributions["time"], [0.0, 0.0, 0.0, 1.0])  # its event tells of the day
    # a month named on its own beside the day keeps its whole match ("on May 10 and in April")
    april_too = score_turns(st, signals, RoutePlan({"time": 1.0}, time=TimeCue((5, 4), (2023,), dates=(may10,))),
                            time_year_mismatch=0.5, time_day_mismatch=0.5)
    np.testing.assert_allclose(april_too.contributions["time"], [1.0, 1.0, 1.0, 1.0])
    # at 1 the month is enough, as before days were read
    same = score_turns(st, signals, RoutePlan({"time": 1.0}, time=cue), time_year_mismatch=0.5)
    np.testing.assert_allclose(same.contributions["time"], [1.0, 1.0, 1.0, 0.0])


# ---------------------------------------------------------------- against plain references
# The array code (masks avoided, pad slots, greedy picks over arrays) must give exactly what the
# documented rules give when written as loops.

from hypothesis import example, given, settings as hsettings, strategies as st  # noqa: E402

from graphmem.retrieve.fusion import normalize  # noqa: E402


def _reference_diversify(s, group, penalty, depth, free):
    out = s.copy()
    finite = [i for i in range(len(s)) if np.isfinite(s[i])]
    if penalty <= 0 or not finite:
        return out
    order = sorted(finite, key=lambda i: (-s[i], i))
    pool, rest = order[:depth], order[depth:]
    picked: dict[int, int] = {}
    last = np.inf

    def lowered(u):
        return s[u] - penalty * max(picked.get(int(group[u]), 0) - free + 1, 0) if group[u] >= 0 else s[u]

    while pool:
        values = [lowered(u) for u in pool]
        best = values.index(max(values))  # the first of equals: the better rank
        last = min(last, values[best])
        unit = pool.pop(best)
        out[unit] = last
        if group[unit] >= 0:
            picked[int(group[unit])] = picked.get(int(group[unit]), 0) + 1
    floor = min(s[i] for i in finite)
    for u in rest:
        out[u] = min(max(lowered(u), floor), last)
    return out


_score = st.one_of(st.just(0.0), st.just(NAN), st.just(-np.inf), st.sampled_from([0.1, 0.25, 0.5, 0.75, 1.0]),
                   st.floats(0, 1, allow_nan=False))


@hsettings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_score, st.integers(-1, 12)), min_size=1, max_size=60),
       st.sampled_from([0.0, 0.05, 0.3, 2.0]), st.integers(1, 40), st.integers(0, 3))
@example([(1.0, 0), (0.9, 1), (0.0, 2)], 0.3, 1, 0)  # free=0: a group without a pick is lowered too
def test_diversify_equals_the_greedy_rule_written_as_loops(units, penalty, depth, free):
    s = np.array([u[0] for u in units], dtype=np.float64)
    group = np.array([u[1] for u in units], dtype=np.int64)
    np.testing.assert_array_equal(diversify(s, group, penalty, depth, free), _reference_diversify(s, group, penalty, depth, free))


@hsettings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_score, st.booleans(), st.booleans()), min_size=1, max_size=40), st.booleans())
def test_neighbour_max_equals_a_loop(units, include_self):
    s = np.array([u[0] for u in units], dtype=np.float64)
    n = len(s)
    prev = np.array([i - 1 if units[i][1] and i > 0 else -1 for i in range(n)])
    nxt = np.array([i + 1 if units[i][2] and i < n - 1 else -1 for i in range(n)])
    expected = []
    for i in range(n):
        values = [s[j] for j in ([i] if include_self else []) + [int(prev[i]), int(nxt[i])] if j >= 0 and np.isfinite(s[j])]
        expected.append(max(values) if values else NAN)
    np.testing.assert_array_equal(neighbour_max(s, prev, nxt, include_self), np.array(expected))


@hsettings(max_examples=200, deadline=None)
@given(st.lists(_score, min_size=0, max_size=30))
def test_minmax_normalize_equals_the_masked_rule(values):
    x = np.array(values, dtype=np.float64)
    expected = np.zeros(len(x))
    finite = [i for i in range(len(x)) if np.isfinite(x[i])]
    if finite:
        lo, hi = min(x[i] for i in finite), max(x[i] for i in finite)
        for i in finite:
            expected[i] = (x[i] - lo) / (hi - lo) if hi > lo else float(hi > 0)
    np.testing.assert_array_equal(normalize(x), expected)
