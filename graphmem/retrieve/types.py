"""Types at the bottom of retrieval: the registry of strategies and units, the ranking types,
``top_k``, time parsing and the one validation of a query.

This module imports nothing of its siblings in :mod:`graphmem.retrieve`, so every other
retrieval module may import it and no two modules import each other
(``types`` <- ``router``/``fusion``/``hierarchy``/``activation``/``lexical``/``projection``
<- ``strategies`` <- ``engine``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

import numpy as np

from graphmem.errors import InputError

__all__ = [
    "STRATEGIES",
    "UNITS",
    "RankedUnit",
    "Ranking",
    "SearchFilter",
    "parse_time",
    "parse_time_range",
    "top_k",
    "validate_query",
]

logger = logging.getLogger(__name__)

# The one registry of what a query may ask for. ``auto`` first: it is the default.
STRATEGIES = ("auto", "dense", "lexical", "activation", "expansion")
UNITS = ("turn", "event", "episode", "session")

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class SearchFilter:
    """Which memories a search may return, by provenance; ``None`` = no restriction.

    Attributes:
        speaker: who said it (case-insensitive). An episode or session qualifies when one
            of its turns is by that speaker.
        conversation: the conversation key as ingested (``Hit.conversation_id``).
        session: the session key as ingested (``Hit.session_key``), in any conversation
            unless ``conversation`` is given too.
    """

    speaker: str | None = None
    conversation: str | None = None
    session: str | None = None

    @classmethod
    def of(cls, speaker: Any = None, conversation: Any = None, session: Any = None) -> "SearchFilter | None":
        """A filter from keyword arguments (``None`` when none is given).

        Raises:
            InputError: a value that is not a non-empty string.
        """
        values = {"speaker": speaker, "conversation": conversation, "session": session}
        for name, value in values.items():
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise InputError(f"{name} filter must be a non-empty string")
        if all(v is None for v in values.values()):
            return None
        return cls(speaker, conversation, session)

    def describe(self) -> dict[str, str]:
        """The restrictions in force, for explanations and logs."""
        return {k: v for k, v in (("speaker", self.speaker), ("conversation", self.conversation),
                                  ("session", self.session)) if v is not None}


def validate_query(query: Any, k: Any, unit: Any, strategy: Any, time_range: Any = None) -> tuple[float, float] | None:
    """Check a query's arguments; the only place retrieval input is validated.

    Returns:
        The parsed time window (see :func:`parse_time_range`), ``None`` for no filter.

    Raises:
        InputError: empty query, bad ``k``, unknown unit or strategy, bad time range.
    """
    if not isinstance(query, str) or not query.strip():
        raise InputError("query must be a non-empty string")
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise InputError("k must be a positive integer")
    if unit not in UNITS:
        raise InputError(f"unknown unit {unit!r}; expected one of {', '.join(UNITS)}")
    if strategy not in STRATEGIES:
        raise InputError(f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    return parse_time_range(time_range)


def parse_time(value: Any) -> float:
    """Seconds since the epoch of an ISO 8601 string, ``datetime`` or ``date`` (NaN if unknown).

    Naive values are taken as UTC, so that comparisons are consistent within a memory.

    >>> parse_time("1970-01-02T00:00:00")
    86400.0
    >>> math.isnan(parse_time(None))
    True
    """
    if value is None or value == "":
        return math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            logger.debug("unparseable time %r ignored", value)
            return math.nan
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH).total_seconds()


def parse_time_range(time_range: Any) -> tuple[float, float] | None:
    """``(start, end)`` in epoch seconds from a pair of datetimes, dates, ISO strings or
    ``None`` (open end); ``None`` for no filter.

    Raises:
        InputError: not a pair, an unparseable bound, or start after end.
    """
    if time_range is None:
        return None
    if isinstance(time_range, (str, bytes)) or not isinstance(time_range, Sequence) or len(time_range) != 2:
        raise InputError("time_range must be a (start, end) pair of datetimes, dates or ISO 8601 strings (None = open)")
    bounds = []
    for value, open_value in zip(time_range, (-math.inf, math.inf)):
        if value is None:
            bounds.append(open_value)
            continue
        seconds = parse_time(value)
        if math.isnan(seconds):
            raise InputError(f"time_range bound {value!r} is not a date or ISO 8601 time")
        bounds.append(seconds)
    start, end = bounds
    if start > end:
        raise InputError("time_range starts after it ends")
    return start, end


@dataclass(frozen=True)
class RankedUnit:
    """One result of the engine, before hydration.

    Attributes:
        node_id: the unit's node id.
        unit: its kind.
        score: the strategy's score.
        strategy: the strategy that produced it (``"auto"`` when fused).
        explanation: JSON-ready explanation (see :mod:`graphmem.retrieve.strategies`).
        provenance: where it sits, from the projection: ``session_id``, ``session_key``,
            ``session_number``, ``conversation_id`` and ``source_id`` (an event's turn's; an
            episode's first and last turn's).
    """

    node_id: str
    unit: str
    score: float
    strategy: str
    explanation: Mapping[str, Any]
    provenance: Mapping[str, Any] = field(default_factory=dict)



@dataclass
class Ranking:
    """Scores of one strategy over the positions of the requested unit.

    Attributes:
        strategy: the strategy name stamped on hits.
        scores: one score per unit position (non-finite = not ranked).
        explain: position -> JSON-ready explanation.
        floor: scores at or below it are not returned (e.g. BM25 0: no term matched).
    """

    strategy: str
    scores: np.ndarray
    explain: Callable[[int], dict[str, Any]]
    floor: float | None = None



def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest finite scores, best first, ties by position."""
    n = len(scores)
    if not n or k <= 0:
        return np.zeros(0, dtype=np.int64)
    s = np.where(np.isfinite(scores), scores, -np.inf)
    if n > k:
        kth = np.partition(s, n - k)[n - k]
        candidates = np.flatnonzero(s >= kth)
    else:
        candidates = np.arange(n)
    candidates = candidates[np.isfinite(s[candidates])]
    order = np.lexsort((candidates, -s[candidates]))[:k]
    return candidates[order]
