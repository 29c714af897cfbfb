"""Tuning discipline: leave-one-conversation-out tuning of the router constants.

For each fold, the constants of :data:`graphmem.retrieve.config.TUNABLE` are chosen on the
other conversations (a small grid, the best turn R_all@10 with ties to NDCG@10 and then to
the defaults) and the choice is scored on the held-out conversation. In-fold figures (on the
conversations the choice was made on) and out-of-fold figures (on the held-out one) are
reported side by side, with the untuned defaults on the same held-out questions: a constant
that helps only in-fold does not generalise and goes.

Every configuration is scored once per conversation (the engine and query embeddings are
shared; only the constants change), so the folds are selections over one table of results.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphmem.eval.harness import DEPTH, EvalCase
from graphmem.eval.metrics import MetricReport, QuestionResult, aggregate, evaluate_ranking
from graphmem.retrieve.config import TUNABLE, RetrievalConfig
from graphmem.retrieve.types import Query, parse_as_of

__all__ = ["FoldResult", "FoldsReport", "grid_configs", "run_folds", "split_folds"]

logger = logging.getLogger(__name__)

#: what a fold maximises: turn R_all@10, then turn NDCG@10
OBJECTIVE = (("turn", "R_all@10"), ("turn", "NDCG@10"))


def grid_configs(base: RetrievalConfig, grid: Mapping[str, Sequence[Any]] = TUNABLE) -> list[dict[str, Any]]:
    """Every combination of the grid's values, as field -> value changes of ``base``; the
    defaults (``base``'s own values) first, so that ties keep them."""
    names = list(grid)
    defaults = {name: getattr(base, name) for name in names}
    combos = [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]
    combos.sort(key=lambda c: c != defaults)
    if defaults not in combos:
        combos.insert(0, defaults)
    return combos


def split_folds(cases: Sequence[EvalCase], folds: int) -> list[list[int]]:
    """Held-out case positions per fold: round-robin over the cases (one conversation per
    fold when ``folds`` equals the number of cases).

    Raises:
        ValueError: fewer than 2 folds or more folds than cases.
    """
    if folds < 2 or folds > len(cases):
        raise ValueError(f"--folds must be between 2 and the number of conversations ({len(cases)}), got {folds}")
    return [list(range(i, len(cases), folds)) for i in range(folds)]


@dataclass
class FoldResult:
    """One fold: what was held out, what the other conversations chose, and the figures.

    Attributes:
        held_out: names of the held-out cases.
        chosen: the constants chosen on the other cases.
        in_fold: reports (``turn``, ``session``) of the chosen constants on the other cases.
        out_of_fold: the same on the held-out cases.
        default_out_of_fold: the untuned defaults on the held-out cases.
    """

    held_out: list[str]
    chosen: dict[str, Any]
    in_fold: dict[str, MetricReport]
    out_of_fold: dict[str, MetricReport]
    default_out_of_fold: dict[str, MetricReport]


@dataclass
class FoldsReport:
    """All folds, and the out-of-fold results pooled over them (every question scored once,
    by constants chosen without it).

    Attributes:
        folds: per fold.
        pooled_in_fold / pooled_out_of_fold / pooled_default: per level, pooled over folds.
        grid: the grid searched.
        per_config: for every configuration (its changes, the defaults first) and case, turn
            R_all@10 and NDCG@10 and session R_all@3: what each constant does on each
            conversation.
        configs: how many configurations were scored.
        questions: questions scored.
    """

    folds: list[FoldResult] = field(default_factory=list)
    pooled_in_fold: dict[str, MetricReport] = field(default_factory=dict)
    pooled_out_of_fold: dict[str, MetricReport] = field(default_factory=dict)
    pooled_default: dict[str, MetricReport] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    per_config: list[dict[str, Any]] = field(default_factory=list)
    configs: int = 0
    questions: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        def report(levels: Mapping[str, MetricReport]) -> dict[str, Any]:
            return {level: {"overall": {k: round(v, 2) for k, v in r.overall.items()},
                            "by_category": {str(c): {k: round(v, 2) for k, v in m.items()} for c, m in r.by_category.items()},
                            "counts": {str(c): n for c, n in r.counts.items()}}
                    for level, r in levels.items()}

        return {
            "grid": self.grid, "configs": self.configs, "questions": self.questions, "per_config": self.per_config,
            "folds": [{"held_out": f.held_out, "chosen": f.chosen, "in_fold": report(f.in_fold),
                       "out_of_fold": report(f.out_of_fold), "default_out_of_fold": report(f.default_out_of_fold)}
                      for f in self.folds],
            "pooled": {"in_fold": report(self.pooled_in_fold), "out_of_fold": report(self.pooled_out_of_fold),
                       "default": report(self.pooled_default)},
        }


# (case, config) -> level -> per-question results
_Table = dict[tuple[int, int], dict[str, list[QuestionResult]]]


def _score_case(engine: Any, vectors: Any, case: EvalCase, configs: Sequence[RetrievalConfig],
                tick: Callable[[], None]) -> list[dict[str, list[QuestionResult]]]:
    out = []
    for config in configs:
        tuned = engine.with_config(config)
        levels: dict[str, list[QuestionResult]] = {"turn": [], "session": []}
        p = tuned.projection
        for question, vector in zip(case.questions, vectors):
            as_of = parse_as_of(question.as_of, engine.tz)  # as the harness's Memory.search reads it
            if question.gold_turns:
                chosen = tuned.top_positions(Query(question.question, DEPTH, "turn", "auto", as_of=as_of), vector)
                turns = [p.turn_source[t] for t in chosen]
                levels["turn"].append(evaluate_ranking(turns, question.gold_turns, question.category))
            if question.gold_sessions:
                chosen = tuned.top_positions(Query(question.question, DEPTH, "session", "auto", as_of=as_of), vector)
                sessions = [int(p.session_number[s]) for s in chosen]
                levels["session"].append(evaluate_ranking(sessions, question.gold_sessions, question.category))
            tick()
        out.append(levels)
    return out


def _objective(report: Mapping[str, MetricReport]) -> tuple[float, ...]:
    return tuple(report[level].overall.get(metric, 0.0) for level, metric in OBJECTIVE)


def _pool(table: _Table, cases: Sequence[int], config: int) -> dict[str, MetricReport]:
    return {level: aggregate(r for c in cases for r in table[(c, config)][level]) for level in ("turn", "session")}


def run_folds(
    engines: Callable[[EvalCase], tuple[Any, Any]],
    cases: Sequence[EvalCase],
    folds: int,
    base: RetrievalConfig,
    grid: Mapping[str, Sequence[Any]] = TUNABLE,
    progress: Callable[[int, int], None] | None = None,
) -> FoldsReport:
    """Leave-one-conversation-out tuning of ``grid`` (see the module docstring).

    Args:
        engines: for a case, ``(engine, question vectors)``: its retrieval engine (the case
            ingested) and the embedding of each of its questions, in order.
        cases: the conversations and their questions.
        folds: number of folds (the number of cases for leave-one-out).
        base: the constants the grid varies (its values are the defaults).
        grid: field -> values to try.
        progress: ``progress(done, total)`` over questions x configurations.

    Returns:
        The :class:`FoldsReport`.

    Raises:
        ValueError: a bad number of folds.
    """
    split = split_folds(cases, folds)
    changes = grid_configs(base, grid)
    configs = [base.with_(**c) for c in changes]
    total = sum(len(c.questions) for c in cases) * len(configs)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    table: _Table = {}
    for ci, case in enumerate(cases):
        engine, vectors = engines(case)
        for gi, levels in enumerate(_score_case(engine, vectors, case, configs, tick)):
            table[(ci, gi)] = levels
    report = FoldsReport(grid={k: list(v) for k, v in grid.items()}, configs=len(configs),
                         questions=sum(len(table[(c, 0)]["turn"]) for c in range(len(cases))))
    for gi, change in enumerate(changes):
        figures = {}
        for ci, case in enumerate(cases):
            levels = _pool(table, [ci], gi)
            figures[case.name] = {"turn R_all@10": round(levels["turn"].overall.get("R_all@10", 0.0), 2),
                                  "turn NDCG@10": round(levels["turn"].overall.get("NDCG@10", 0.0), 2),
                                  "session R_all@3": round(levels["session"].overall.get("R_all@3", 0.0), 2),
                                  "turn R_all@10 by category": {str(c): round(m.get("R_all@10", 0.0), 2)
                                                                for c, m in levels["turn"].by_category.items()}}
        report.per_config.append({"changes": change, "cases": figures})
    pooled: dict[str, dict[str, list[QuestionResult]]] = {name: {"turn": [], "session": []} for name in ("in", "out", "default")}
    for held in split:
        train = [c for c in range(len(cases)) if c not in held]
        scored = [(_objective(_pool(table, train, gi)), -gi, gi) for gi in range(len(configs))]
        best = max(scored)[2]  # ties: the earliest configuration, the defaults first
        logger.info("fold holding out %s chose %s", [cases[c].name for c in held], changes[best])
        report.folds.append(FoldResult(
            held_out=[cases[c].name for c in held], chosen=changes[best], in_fold=_pool(table, train, best),
            out_of_fold=_pool(table, held, best), default_out_of_fold=_pool(table, held, 0)))
        for level in ("turn", "session"):
            pooled["in"][level].extend(r for c in train for r in table[(c, best)][level])
            pooled["out"][level].extend(r for c in held for r in table[(c, best)][level])
            pooled["default"][level].extend(r for c in held for r in table[(c, 0)][level])
    report.pooled_in_fold = {level: aggregate(rows) for level, rows in pooled["in"].items()}
    report.pooled_out_of_fold = {level: aggregate(rows) for level, rows in pooled["out"].items()}
    report.pooled_default = {level: aggregate(rows) for level, rows in pooled["default"].items()}
    return report
