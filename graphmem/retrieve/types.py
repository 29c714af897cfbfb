"""Types at the bottom of retrieval: the registry of strategies and units, the validated
:class:`Query`, the per-query :class:`QueryContext`, the ranking types, ``top_k`` and the
pooling helpers, time parsing and the one validation of a query.

Below it sit only :mod:`~graphmem.retrieve.config` (the constants) and
:mod:`~graphmem.retrieve.cues` (query cues), which import no sibling; every other retrieval
module may import it and no two modules import each other
(``config``, ``cues`` <- ``types`` <- ``activation``/``lexical``/``router``/``fusion``/
``hierarchy``/``projection`` <- ``strategies`` <- ``engine``).
"""

from __future__ import annotations

import logging
import re
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from graphmem.errors import InputError, reject_lone_surrogates
from graphmem.retrieve.config import RetrievalConfig
from graphmem.retrieve.cues import QueryFeatures

__all__ = [
    "STRATEGIES",
    "UNITS",
    "EngineView",
    "Query",
    "SearchFilter",
    "QueryContext",
    "pool_max",
    "segment_max",
    "RankedUnit",
    "Ranking",
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
        exclude: node ids of memories not to return (``Hit.node_id``, ``AddReport.turn_ids``,
            ``Memory.messages``'s ``turn_id``): an excluded turn takes its events with it, and an
            episode or session still qualifies through its other turns.
        metadata: ``(key, value)`` pairs a turn's message metadata must all hold (values
            compared as stored: ``"1"`` is not ``1``, and ``True`` is not ``1``); an event goes
            with its turn, an episode or session qualifies through its turns.
    """

    speaker: str | None = None
    conversation: str | None = None
    session: str | None = None
    exclude: tuple[str, ...] | None = None
    metadata: tuple[tuple[str, object], ...] | None = None

    @classmethod
    def of(cls, speaker: Any = None, conversation: Any = None, session: Any = None,
           exclude: Any = None, metadata: Any = None) -> "SearchFilter | None":
        """A filter from keyword arguments (``None`` when none is given).

        Raises:
            InputError: a value that is not a non-empty string; ``exclude`` not an id or a list
                of at most :data:`MAX_EXCLUDED` ids; ``metadata`` not a mapping of text,
                numbers and booleans.
        """
        from graphmem.loaders.chat import metadata_pairs

        values = {"speaker": speaker, "conversation": conversation, "session": session}
        for name, value in values.items():
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise InputError(f"{name} filter must be a non-empty string")
            reject_lone_surrogates(value, f"{name} filter")
        excluded = _excluded(exclude)
        pairs = metadata_pairs(metadata, "metadata", null=False) if metadata is not None else ()
        reject_lone_surrogates(dict(pairs), "metadata")
        if all(v is None for v in values.values()) and not excluded and not pairs:
            return None
        return cls(speaker, conversation, session, excluded or None, pairs or None)

    def describe(self) -> dict[str, str]:
        """The restrictions in force, for explanations and logs."""
        metadata = ", ".join(f"{key}={value!r}" for key, value in self.metadata or ()) or None
        return {k: v for k, v in (("speaker", self.speaker), ("conversation", self.conversation), ("session", self.session),
                                  ("exclude", f"{len(self.exclude)} ids" if self.exclude else None), ("metadata", metadata))
                if v is not None}


def metadata_code(value: Any) -> str:
    """A metadata value as the code equal values of one kind share: a text ``"s:..."``, a boolean
    ``"b:1"`` / ``"b:0"``, a number ``"n:..."`` with a whole float written as its integer (2 and
    2.0 are one value, as the stores compare them; "2" is not 2, and True is not 1)."""
    if isinstance(value, bool):
        return "b:1" if value else "b:0"
    if isinstance(value, str):
        return "s:" + value
    if isinstance(value, float) and value.is_integer():
        return f"n:{int(value)}"
    return f"n:{value!r}"


MAX_EXCLUDED = 10_000
"""The most ids one search may exclude (a prompt's recent window is tens)."""


def _excluded(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple, set, frozenset)):
        raise InputError(f"exclude must be a node id or a list of them, got {type(value).__name__}")
    if len(items) > MAX_EXCLUDED:
        raise InputError(f"exclude: {len(items)} ids, at most {MAX_EXCLUDED}")
    for position, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            raise InputError(f"exclude[{position}]: expected a node id (Hit.node_id, a turn id), got {item!r}")
        reject_lone_surrogates(item, f"exclude[{position}]")
    return tuple(dict.fromkeys(items))


@dataclass(frozen=True)
class Query:
    """A validated query: build it with :func:`validate_query` only.

    Attributes:
        text: the query text (non-empty).
        k: how many results (>= 1).
        unit: one of :data:`UNITS`.
        strategy: one of :data:`STRATEGIES`.
        window: ``(start, end)`` epoch seconds of the time filter, ``None`` for none.
        filter: speaker/conversation/session restriction, ``None`` for none.
        as_of: when the query is asked (epoch seconds): its relative time expressions
            ("last Saturday", "two weeks ago") resolve against this date; ``None`` leaves
            them out.
    """

    text: str
    k: int
    unit: str
    strategy: str
    window: tuple[float, float] | None = None
    filter: SearchFilter | None = None
    as_of: float | None = None


def validate_query(query: Any, k: Any, unit: Any, strategy: Any, time_range: Any = None, *,
                   speaker: Any = None, conversation: Any = None, session: Any = None, as_of: Any = None,
                   tz: tzinfo | None = None, exclude: Any = None, metadata: Any = None) -> Query:
    """Check a query's arguments; the only place retrieval input is validated
    (:meth:`graphmem.memory.Memory.search` calls it once; lower levels take the
    :class:`Query` it returns and trust it).

    ``as_of`` (a datetime, date or ISO 8601 string) is when the query is asked; ``None``
    means now. A time without an offset, there and in ``time_range``, is a wall-clock time in
    ``tz`` (the memory's time zone, :attr:`graphmem.settings.Settings.tz`; ``None``: UTC).

    Returns:
        The :class:`Query`, with the parsed time window (see :func:`parse_time_range`).

    Raises:
        InputError: empty query, bad ``k``, unknown unit or strategy, bad time range or ``as_of``.
    """
    if not isinstance(query, str) or not query.strip():
        raise InputError("query must be a non-empty string")
    reject_lone_surrogates(query, "query")
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise InputError("k must be a positive integer")
    if unit not in UNITS:
        raise InputError(f"unknown unit {unit!r}; expected one of {', '.join(UNITS)}")
    if strategy not in STRATEGIES:
        raise InputError(f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    return Query(query, k, unit, strategy, parse_time_range(time_range, tz), SearchFilter.of(speaker, conversation, session, exclude, metadata),
                 parse_as_of(as_of, tz))


def _given_time(value: Any, tz: tzinfo | None) -> float:
    """:func:`parse_time` of a time a user gave: one without an offset is a wall-clock time in
    ``tz`` (``None``: UTC)."""
    if tz is not None:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                return math.nan
        elif isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=tz)
    return parse_time(value)


def parse_as_of(value: Any, tz: tzinfo | None = None) -> float:
    """Epoch seconds of when a query is asked: ``value`` (a datetime, date or ISO 8601
    string; without an offset, a wall-clock time in ``tz``, ``None``: UTC) or, for ``None``, now.

    Raises:
        InputError: a value that is not a time, or a year outside 1-9999.
    """
    if value is None:
        return time.time()
    return _instant(value, tz, "as_of", isinstance(value, (str, date)))


def _instant(value: Any, tz: tzinfo | None, what: str, readable: bool = True) -> float:
    """Epoch seconds of a time a user gave (:func:`_given_time`), named ``what`` in errors.

    Raises:
        InputError: not ``readable``, not a time, or outside the years 1-9999 in UTC (which
            no stored time can be, and which the explanation could not show).
    """
    if isinstance(value, str):
        reject_lone_surrogates(value, what)
    outside = f"{what} {value!r} is outside the years 1-9999 in UTC"
    try:
        seconds = _given_time(value, tz) if readable else math.nan
    except (OverflowError, ValueError):  # a wall-clock time past year 9999 in UTC
        raise InputError(outside) from None
    if math.isnan(seconds):
        raise InputError(f"{what} {value!r} is not a date or ISO 8601 time")
    try:
        _EPOCH + timedelta(seconds=seconds)
    except OverflowError:  # an offset that carries it past year 9999 (or before year 1) in UTC
        raise InputError(outside) from None
    return seconds


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


def parse_time_range(time_range: Any, tz: tzinfo | None = None) -> tuple[float, float] | None:
    """``(start, end)`` in epoch seconds from a pair of datetimes, dates, ISO strings or
    ``None`` (open end); ``None`` for no filter. A bound without an offset is a wall-clock
    time in ``tz`` (``None``: UTC); an end given as a day alone (a ``date``, ``"2024-03-16"``)
    is the end of that day, so that ``(day, day)`` is the whole day.

    Raises:
        InputError: not a pair, an unparseable bound or one outside the years 1-9999 in UTC,
            or start after end.
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
        bounds.append(_instant(value, tz, "time_range bound"))
    start, end = bounds
    day = _day_only(time_range[1])
    if day is not None:  # an end given as a day is that whole day (it read as its first instant, midnight)
        try:
            end = _instant(day + timedelta(days=1), tz, "time_range bound") - _MICROSECOND
        except (InputError, OverflowError):  # the day after 9999-12-31
            end = math.inf
    if start > end:
        raise InputError("time_range starts after it ends")
    return start, end


_MICROSECOND = timedelta(microseconds=1).total_seconds()
_DAY = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})\s*")


def _day_only(value: Any) -> date | None:
    """The day ``value`` names when it is a day alone (a ``date``, or ISO 8601 text of a date
    without a time), else ``None``."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        match = _DAY.fullmatch(value)
        if match:
            try:
                return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                return None
    return None


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
    if not len(scores) or k <= 0:
        return np.zeros(0, dtype=np.int64)
    # Only the finite scores compete, and only those above the floor most units sit at (NaN
    # outside the ANN candidates, 0 where no component fired): np.partition over 100k mostly
    # equal values took 5-66 ms a call, this takes well under one.
    s = np.asarray(scores, dtype=np.float64)
    finite = np.isfinite(s)
    if finite.all():  # auto's turns: a floor, no NaN; positions are the scores' own
        finite = np.arange(len(s))
    else:
        finite = np.flatnonzero(finite)
        s = s[finite]
    n = len(finite)
    if n > k:
        above = np.flatnonzero(s > s.min())
        if len(above) > k:
            kth = np.partition(s[above], len(above) - k)[len(above) - k]
            keep = above[s[above] >= kth]
        else:  # the rest are ties at the floor: the first positions win
            keep = np.concatenate([above, np.flatnonzero(s == s.min())[: k - len(above)]])
    else:
        keep = np.arange(n)
    order = np.lexsort((finite[keep], -s[keep]))[:k]
    return finite[keep[order]]


def segment_max(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Max of ``values[start:end]`` per segment (``-inf`` for empty segments; NaN ignored)."""
    if not len(starts):
        return np.zeros(0)
    vals = np.append(np.where(np.isfinite(values), values, -np.inf), -np.inf)
    idx = np.empty(2 * len(starts), dtype=np.int64)
    idx[0::2] = starts
    idx[1::2] = ends
    out = np.maximum.reduceat(vals, idx)[0::2]
    out[ends <= starts] = -np.inf
    return out


def pool_max(child_scores: np.ndarray, child_parent: np.ndarray, n_parents: int) -> np.ndarray:
    """Max of the children's scores per parent (e.g. events -> turns).

    Args:
        child_scores: score per child, ``NaN`` = not scored.
        child_parent: parent position per child (``-1`` = none).
        n_parents: number of parents.

    Returns:
        Array of length ``n_parents``; ``NaN`` where no child was scored.

    Raises:
        ValueError: when the two arrays differ in shape.
    """
    child_scores = np.asarray(child_scores, dtype=np.float64)
    child_parent = np.asarray(child_parent, dtype=np.int64)
    if child_scores.shape != child_parent.shape:
        raise ValueError("child_scores and child_parent differ in shape")
    out = np.full(n_parents, -np.inf)
    keep = (child_parent >= 0) & np.isfinite(child_scores)
    np.maximum.at(out, child_parent[keep], child_scores[keep])
    out[~np.isfinite(out)] = np.nan
    return out


class EngineView(Protocol):
    """What a :class:`QueryContext` needs of the engine that made it
    (:class:`graphmem.retrieve.engine.RetrievalEngine`, which sits above this module)."""

    #: the memory projection (:class:`graphmem.retrieve.projection.MemoryProjection`)
    projection: Any
    config: RetrievalConfig
    #: the activation graph (:class:`graphmem.retrieve.activation.Projection`)
    graph: Any
    #: turn structure for the hierarchy (:class:`graphmem.retrieve.hierarchy.TurnStructure`)
    structure: Any
    #: symmetric sparse ``ASSOCIATED`` weights between global node positions
    associations: Any

    def dense_scores(self, unit: str, vector: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        """Cosine of ``vector`` with each unit of ``unit`` (``NaN`` = not retrieved); with
        ``allowed`` (a search filter's mask), every unit it keeps and no other."""

    def lexical_scores(self, unit: str, text: str) -> np.ndarray:
        """BM25 of ``text`` against each unit of ``unit``."""

    def match_entities(self, text: str) -> list[tuple[int, str]]:
        """``(entity position, surface)`` for the entities ``text`` names."""

    def tokenize(self, text: str) -> list[str]:
        """``text`` as BM25 terms."""

    def indexed_tokens(self, unit: str, position: int) -> list[str] | None:
        """The BM25 terms the index of ``unit`` holds for its unit at ``position`` (``None``: none held)."""


class QueryContext:
    """Per-query state: the query, its features and its raw scores at every granularity,
    computed lazily and at most once.

    Args:
        engine: the engine answering the query (its projection, indexes and constants).
        text: the query text (validated).
        vector: its embedding.
        allowed: per unit, the units a search filter keeps (``None``: no filter).
        as_of: the date the query is asked, for its relative time expressions (``None``:
            they are left out).
    """

    def __init__(self, engine: EngineView, text: str, vector: np.ndarray,
                 allowed: Mapping[str, np.ndarray] | None = None, as_of: date | None = None) -> None:
        self.engine = engine
        self.projection = engine.projection
        self.config: RetrievalConfig = engine.config
        self.text = text
        self.as_of = as_of
        self.vector = np.asarray(vector, dtype=np.float32)
        self.allowed = allowed
        self._dense: dict[str, np.ndarray] = {}
        self._lexical: dict[str, np.ndarray] = {}

    def dense(self, unit: str) -> np.ndarray:
        """Cosine of the query with each unit of ``unit`` (``NaN`` = not retrieved)."""
        if unit not in self._dense:
            allowed = self.allowed.get(unit) if self.allowed is not None else None
            self._dense[unit] = self.engine.dense_scores(unit, self.vector, allowed)
        return self._dense[unit]

    def lexical(self, unit: str) -> np.ndarray:
        """BM25 of the query against each unit of ``unit`` (zeros where no term matches)."""
        if unit not in self._lexical:
            self._lexical[unit] = self.engine.lexical_scores(unit, self.text)
        return self._lexical[unit]

    @cached_property
    def dense_turn(self) -> np.ndarray:
        """Per turn, the best cosine of the turn itself and its events (``NaN`` = neither retrieved)."""
        turn = self.dense("turn")
        event = self.dense("event")
        if not len(event):
            return turn
        pooled = pool_max(event, self.projection.event_turn, self.projection.n_turns)
        return np.fmax(turn, pooled)

    def best_event(self, turn: int) -> int:
        """The event of ``turn`` whose cosine beats the turn's own (-1 = none does)."""
        indptr, events = self.projection.turn_events
        members = events[indptr[turn]:indptr[turn + 1]]
        if not len(members):
            return -1
        values = self.dense("event")[members]
        if not np.isfinite(values).any():
            return -1
        best = int(members[int(np.nanargmax(values))])
        own = self.dense("turn")[turn]
        return best if not np.isfinite(own) or self.dense("event")[best] > own else -1

    @cached_property
    def entities(self) -> list[tuple[int, str]]:
        """Entities named in the query: ``(entity position, surface)``."""
        return self.engine.match_entities(self.text)

    @cached_property
    def features(self) -> QueryFeatures:
        """The query's cues (names, dates, temporal and aggregation cues)."""
        names = list(dict.fromkeys(self.projection.entity_name[e] for e, _ in self.entities))
        names += list(dict.fromkeys(s for _, s in self.entities))
        return QueryFeatures.from_query(self.text, names, self.as_of)

    @cached_property
    def query_terms(self) -> set[str]:
        """The query's BM25 terms."""
        return set(self.engine.tokenize(self.text))

    def matched_terms(self, text: str, unit: str | None = None, position: int = -1) -> list[str]:
        """Query terms that occur in ``text`` (as BM25 sees them). With ``unit`` and ``position``,
        ``text`` is that unit's BM25 text, whose terms its index holds: a long text (a pasted
        megabyte) is not tokenised again for every query it answers (0.3 to 1.1 s a search)."""
        held = self.engine.indexed_tokens(unit, position) if unit is not None and position >= 0 else None
        return sorted(self.query_terms & set(held if held is not None else self.engine.tokenize(text)))
