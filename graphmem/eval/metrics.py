"""Retrieval metrics for LoCoMo-style evaluation.

Gold evidence in LoCoMo is a list of dialogue ids (``dia_id``) such as ``"D3:12"``
(session 3, turn 12). Some source ids are malformed (``"D8:6; D9:17"``, ``"D:11:26"``),
so :func:`parse_evidence_ids` extracts them with a regular expression.

Metrics follow the conventions of MemGAS and the LoCoMo reference figures:

* ``recall_all@k`` -- 1.0 when *every* gold unit is in the top ``k`` (MemGAS's Recall@k);
* ``recall_any@k`` -- 1.0 when *at least one* gold unit is in the top ``k``;
* ``ndcg@k`` -- binary relevance, ideal DCG over ``min(len(gold), k)`` relevant items.

Ranked lists are expected to be de-duplicated; a repeated id is counted once (its first
position) so a ranking cannot gain from duplicates.
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_KS",
    "MetricReport",
    "QuestionResult",
    "aggregate",
    "evaluate_ranking",
    "ndcg",
    "parse_evidence_ids",
    "recall_all",
    "recall_any",
    "session_of_dia_id",
]

logger = logging.getLogger(__name__)

DEFAULT_KS: tuple[int, ...] = (1, 3, 5, 10)

# "D8:6", "D:11:26", "D 8 : 6" -> (session, turn). The optional ":" after D absorbs the
# malformed "D:11:26" form.
_DIA_ID_RE = re.compile(r"D\s*:?\s*(\d+)\s*:\s*(\d+)")
_SESSION_RE = re.compile(r"D\s*:?\s*(\d+)")


def parse_evidence_ids(evidence: str | Iterable[str] | None) -> list[str]:
    """Extract canonical ``"D<session>:<turn>"`` ids from LoCoMo evidence.

    Args:
        evidence: one evidence string or a list of them, possibly malformed
            (``"D8:6; D9:17"``, ``"D:11:26"``). ``None`` is treated as empty.

    Returns:
        The canonical ids in order of first appearance, without duplicates. Strings that
        contain no recognisable id contribute nothing.

    Example:
        >>> parse_evidence_ids(["D8:6; D9:17", "D:11:26"])
        ['D8:6', 'D9:17', 'D11:26']
    """
    if evidence is None:
        return []
    items = [evidence] if isinstance(evidence, str) else list(evidence)
    out: list[str] = []
    seen: set[str] = set()
    for item in items:
        for session, turn in _DIA_ID_RE.findall(str(item)):
            dia_id = f"D{int(session)}:{int(turn)}"
            if dia_id not in seen:
                seen.add(dia_id)
                out.append(dia_id)
    return out


def session_of_dia_id(dia_id: str) -> int:
    """Return the session number of a dialogue id.

    Args:
        dia_id: a dialogue id such as ``"D3:12"`` (malformed ``"D:3:12"`` is accepted).

    Returns:
        The session number (``3`` for ``"D3:12"``).

    Raises:
        ValueError: when no session number can be found.
    """
    match = _SESSION_RE.search(dia_id)
    if match is None:
        raise ValueError(f"not a LoCoMo dialogue id: {dia_id!r}")
    return int(match.group(1))


def _dedup_top(ranked: Sequence[Hashable], k: int) -> list[Hashable]:
    """First ``k`` distinct items of ``ranked``, in order."""
    seen: set[Hashable] = set()
    out: list[Hashable] = []
    for item in ranked:
        if item in seen:
            continue
        seen.add(item)
        out.append(item)
        if len(out) == k:
            break
    return out


def _check(gold: Iterable[Hashable], k: int) -> set[Hashable]:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    gold_set = set(gold)
    if not gold_set:
        raise ValueError("gold is empty; metrics are undefined for a question without evidence")
    return gold_set


def recall_all(ranked: Sequence[Hashable], gold: Iterable[Hashable], k: int) -> float:
    """1.0 if every gold item is in the top ``k`` of ``ranked``, else 0.0.

    Args:
        ranked: items, best first.
        gold: the relevant items (non-empty).
        k: cut-off (>= 1).

    Returns:
        1.0 or 0.0.

    Raises:
        ValueError: when ``gold`` is empty or ``k < 1``.
    """
    gold_set = _check(gold, k)
    return 1.0 if gold_set <= set(_dedup_top(ranked, k)) else 0.0


def recall_any(ranked: Sequence[Hashable], gold: Iterable[Hashable], k: int) -> float:
    """1.0 if at least one gold item is in the top ``k`` of ``ranked``, else 0.0.

    Args:
        ranked: items, best first.
        gold: the relevant items (non-empty).
        k: cut-off (>= 1).

    Returns:
        1.0 or 0.0.

    Raises:
        ValueError: when ``gold`` is empty or ``k < 1``.
    """
    gold_set = _check(gold, k)
    return 1.0 if gold_set & set(_dedup_top(ranked, k)) else 0.0


def ndcg(ranked: Sequence[Hashable], gold: Iterable[Hashable], k: int) -> float:
    """Normalised discounted cumulative gain at ``k`` with binary relevance.

    ``DCG = sum over relevant ranks r (1-based) of 1 / log2(r + 1)``; the ideal DCG places
    ``min(len(gold), k)`` relevant items at ranks ``1..``.

    Args:
        ranked: items, best first.
        gold: the relevant items (non-empty).
        k: cut-off (>= 1).

    Returns:
        A value in ``[0, 1]``.

    Raises:
        ValueError: when ``gold`` is empty or ``k < 1``.
    """
    gold_set = _check(gold, k)
    dcg = sum(
        1.0 / math.log2(rank + 2)
        for rank, item in enumerate(_dedup_top(ranked, k))
        if item in gold_set
    )
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(gold_set), k)))
    return dcg / ideal


@dataclass(frozen=True)
class QuestionResult:
    """Metric values of one question at one granularity.

    Attributes:
        category: the question's category (LoCoMo: 1 multi-hop, 2 temporal, 3 open-domain,
            4 single-hop, 5 adversarial).
        values: metric name (``"R_all@10"``, ``"R_any@10"``, ``"NDCG@10"``...) -> value in [0, 1].
    """

    category: Hashable
    values: Mapping[str, float]


def evaluate_ranking(
    ranked: Sequence[Hashable],
    gold: Iterable[Hashable],
    category: Hashable = None,
    ks: Sequence[int] = DEFAULT_KS,
) -> QuestionResult:
    """Compute R_all@k, R_any@k and NDCG@k for every ``k`` in ``ks``.

    Args:
        ranked: items, best first.
        gold: the relevant items (non-empty).
        category: the question's category, carried through for aggregation.
        ks: cut-offs.

    Returns:
        A :class:`QuestionResult` with keys ``R_all@k``, ``R_any@k``, ``NDCG@k``.
    """
    gold_set = set(gold)
    values: dict[str, float] = {}
    for k in ks:
        values[f"R_all@{k}"] = recall_all(ranked, gold_set, k)
        values[f"R_any@{k}"] = recall_any(ranked, gold_set, k)
        values[f"NDCG@{k}"] = ndcg(ranked, gold_set, k)
    return QuestionResult(category=category, values=values)


@dataclass(frozen=True)
class MetricReport:
    """Mean metric values (in percent) overall and per category.

    Attributes:
        overall: metric name -> mean value in percent over all questions.
        by_category: category -> metric name -> mean in percent.
        counts: ``"all"`` and every category -> number of questions.
    """

    overall: Mapping[str, float]
    by_category: Mapping[Hashable, Mapping[str, float]] = field(default_factory=dict)
    counts: Mapping[Hashable, int] = field(default_factory=dict)


def _mean_percent(rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
    if not rows:
        return {}
    keys = list(rows[0].keys())
    return {key: 100.0 * sum(row[key] for row in rows) / len(rows) for key in keys}


def aggregate(results: Iterable[QuestionResult]) -> MetricReport:
    """Average per-question results overall and per category, in percent.

    Args:
        results: per-question results, all with the same metric keys.

    Returns:
        A :class:`MetricReport`; empty mappings when there are no results.
    """
    results = list(results)
    grouped: dict[Hashable, list[Mapping[str, float]]] = defaultdict(list)
    for result in results:
        grouped[result.category].append(result.values)
    by_category = {
        cat: _mean_percent(rows)
        for cat, rows in sorted(grouped.items(), key=lambda kv: str(kv[0]))
    }
    counts: dict[Hashable, int] = {"all": len(results)}
    counts.update({cat: len(rows) for cat, rows in grouped.items()})
    return MetricReport(
        overall=_mean_percent([r.values for r in results]),
        by_category=by_category,
        counts=counts,
    )
