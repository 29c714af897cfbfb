"""Retrieval evaluation: ingest each conversation into its own namespace, ask its
questions there, write rankings, and score them per strategy."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Hashable, Iterable, Sequence

from graphmem.errors import GraphmemError
from graphmem.eval.metrics import MetricReport, QuestionResult, aggregate, evaluate_ranking
from graphmem.records import ConversationRecord

__all__ = ["EvalQuestion", "EvalCase", "EvalResult", "run_evaluation", "STRATEGY_ALIASES"]

logger = logging.getLogger(__name__)

STRATEGY_ALIASES = {"bm25": "lexical"}
DEPTH = 10


@dataclass(frozen=True)
class EvalQuestion:
    """One question with its gold evidence.

    Attributes:
        ident: fields that identify it in the rankings file (e.g. sample_id, qa_index).
        question: the text asked.
        category: the group it is reported under.
        gold_turns: source ids of the evidence turns.
        gold_sessions: session keys (or numbers) holding the evidence.
        as_of: when the question is asked (``Memory.search(as_of=...)``; ``None``: now).
    """

    ident: dict[str, Any]
    question: str
    category: Hashable
    gold_turns: tuple[str, ...]
    gold_sessions: tuple[Hashable, ...]
    as_of: Any = None


@dataclass(frozen=True)
class EvalCase:
    """Conversations that share a namespace, and the questions asked there."""

    name: str
    conversations: tuple[ConversationRecord, ...]
    questions: tuple[EvalQuestion, ...]


@dataclass
class EvalResult:
    """Metric reports per strategy and granularity, plus timings."""

    reports: dict[str, dict[str, MetricReport]] = field(default_factory=dict)
    questions: int = 0
    skipped: int = 0
    ingest_seconds: float = 0.0
    query_seconds: dict[str, float] = field(default_factory=dict)
    cases: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "questions": self.questions,
            "skipped": self.skipped,
            "ingest_seconds": round(self.ingest_seconds, 2),
            "query_seconds": {k: round(v, 2) for k, v in self.query_seconds.items()},
            "cases": self.cases,
            "strategies": {
                strategy: {
                    level: {
                        "overall": {k: round(v, 2) for k, v in report.overall.items()},
                        "by_category": {str(c): {k: round(v, 2) for k, v in m.items()} for c, m in report.by_category.items()},
                        "counts": {str(c): n for c, n in report.counts.items()},
                    }
                    for level, report in levels.items()
                }
                for strategy, levels in self.reports.items()
            },
        }


def _session_key(hit: Any, by: str) -> Hashable:
    return hit.session_number if by == "number" else hit.session_key


def stream_conversations(memory: Any, conversations: Iterable[Any]) -> int:
    """Send each conversation through ``memory.add`` one message per call, with its session
    keys and session start times, as a live agent would; returns the messages sent."""
    sent = 0
    for conversation in conversations:
        for session in conversation.sessions:
            for turn in session.turns:
                try:
                    memory.add(turn, conversation=conversation.key, session=session.key, session_started_at=session.started_at)
                except GraphmemError as exc:  # name the message of the file, not the call's "messages[0]"
                    raise type(exc)(f"conversation {conversation.key!r}, session {session.key!r}, message "
                                    f"{turn.source_id or sent}: {exc}") from exc
                sent += 1
    return sent


def run_evaluation(
    open_memory: Callable[[str], Any],
    cases: Sequence[EvalCase],
    strategies: Sequence[str],
    *,
    session_by: str = "number",
    rankings: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_case_done: Callable[[Any], None] | None = None,
    on_case_timed: Callable[[dict[str, Any]], None] | None = None,
    stream: bool = False,
) -> EvalResult:
    """Evaluate ``strategies`` on ``cases``.

    Args:
        open_memory: returns an open Memory for a namespace name.
        cases: what to ingest and ask.
        strategies: names accepted by ``Memory.search`` (``bm25`` means ``lexical``).
        session_by: rank sessions by ``"number"`` (LoCoMo) or ``"key"`` (LongMemEval ids).
        rankings: JSONL file receiving one line per question and strategy.
        progress: ``progress(done, total)`` over questions × strategies.
        on_case_done: called with each case's Memory before it is closed (cleanup).
        on_case_timed: called with each case's ``{case, turns, ingest_seconds, query_seconds}``
            (query seconds over every strategy, turn and session searches) once it is scored.
        stream: send every conversation through ``Memory.add`` one message per call (with its
            session keys and dates) instead of one batch ingest.

    Returns:
        An :class:`EvalResult`.
    """
    result = EvalResult()
    per_strategy: dict[str, dict[str, list[QuestionResult]]] = {s: {"turn": [], "session": []} for s in strategies}
    total = sum(len(c.questions) for c in cases) * len(strategies)
    done = 0
    sink = rankings.open("w", encoding="utf-8") if rankings else None
    try:
        for case in cases:
            memory = open_memory(case.name)
            try:
                started = time.perf_counter()
                if stream:
                    stream_conversations(memory, case.conversations)
                else:
                    memory.ingest(list(case.conversations))
                ingest_seconds = time.perf_counter() - started
                result.ingest_seconds += ingest_seconds
                given = sum(len(s.turns) for c in case.conversations for s in c.sessions)
                held = int(memory.stats()["nodes"].get("Turn", 0))
                if held != given:  # a kept namespace (--store --keep) that holds another file's haystack too
                    logger.warning("case %s: its namespace holds %d turns, the case %d: it is scored against all of them "
                                   "(a namespace kept from another run? drop it, or use another --store)", case.name, held, given)
                case_query_seconds = 0.0
                for question in case.questions:
                    if not question.gold_turns and not question.gold_sessions:
                        result.skipped += 1
                        done += len(strategies)
                        continue
                    result.questions += 1
                    for strategy in strategies:
                        actual = STRATEGY_ALIASES.get(strategy, strategy)
                        t0 = time.perf_counter()
                        asked = {"k": DEPTH, "strategy": actual, "as_of": question.as_of}
                        turns = [h.source_id for h in memory.search(question.question, unit="turn", **asked)]
                        sessions = [_session_key(h, session_by) for h in memory.search(question.question, unit="session", **asked)]
                        elapsed = time.perf_counter() - t0
                        case_query_seconds += elapsed
                        result.query_seconds[strategy] = result.query_seconds.get(strategy, 0.0) + elapsed
                        if question.gold_turns:
                            per_strategy[strategy]["turn"].append(evaluate_ranking(turns, question.gold_turns, question.category))
                        if question.gold_sessions:
                            per_strategy[strategy]["session"].append(evaluate_ranking(sessions, question.gold_sessions, question.category))
                        if sink:
                            sink.write(json.dumps({**question.ident, "category": question.category, "strategy": strategy,
                                                   "turns": turns, "sessions": sessions}, ensure_ascii=False) + "\n")
                            sink.flush()  # a long evaluation stopped early keeps what it ranked
                        done += 1
                        if progress:
                            progress(done, total)
                result.cases.append({"case": case.name, "turns": sum(c.turn_count for c in case.conversations),
                                     "ingest_seconds": round(ingest_seconds, 2),
                                     "query_seconds": round(case_query_seconds, 3)})
                if on_case_timed:
                    on_case_timed(result.cases[-1])
            finally:
                if on_case_done:
                    on_case_done(memory)
                memory.close()
    finally:
        if sink:
            sink.close()
    result.reports = {s: {level: aggregate(rows) for level, rows in levels.items()} for s, levels in per_strategy.items()}
    return result


def iter_metric_rows(report: MetricReport, ks: Iterable[int] = (1, 3, 5, 10)) -> list[tuple[str, int, list[float]]]:
    """Rows ``(group, count, [R_all@k..., R_any@k..., NDCG@k...])`` for tables."""
    rows = []
    groups = [("all", report.overall)] + [(str(c), m) for c, m in report.by_category.items()]
    for name, metrics in groups:
        count = report.counts.get(name if name == "all" else next(c for c in report.counts if str(c) == name), 0)
        values = [metrics.get(f"{m}@{k}", 0.0) for m in ("R_all", "R_any", "NDCG") for k in ks]
        rows.append((name, count, values))
    return rows
