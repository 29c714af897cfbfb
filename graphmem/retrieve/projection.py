"""The in-memory projection of one namespace's memory graph.

Every retrieval strategy works on this projection, never on the database: arrays over the
turns, events, episodes, sessions, entities and topics of a namespace (positions, not ids),
their texts for the lexical indexes, their times for filtering, and the typed edges of the
hypergraph for spreading activation and graph expansion.

:meth:`MemoryProjection.from_rows` builds it from the rows of the ``read/projection_*``
queries (pure; see :mod:`graphmem.retrieve.loader` for the store side), :meth:`save` and
:meth:`load` persist it next to the ANN indexes.

Conventions:

* turns are ordered by conversation, then ``seq`` (session number, index in session), so
  the turns of one session, and of one episode, are contiguous;
* sessions are ordered by conversation, then number; episodes by conversation, then start;
* times are seconds since the epoch (``NaN`` = unknown); naive ISO times are read as UTC;
* position ``-1`` means "none" (a turn outside any episode, an event whose turn is gone).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from functools import cached_property
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from graphmem.extract.activities import states_activity
from graphmem.extract.temporal import states_age, states_duration, states_frequency
from graphmem.ingest.common import indexed_text
from graphmem.records import metadata_of
from graphmem.scripts import fold_name

from graphmem.retrieve.activation import Projection
from graphmem.retrieve.config import EDGE_WEIGHTS, ROLE_WEIGHTS
from graphmem.retrieve.cues import ACTIVITY_LABELS, AGE_LABELS, DURATION_LABELS, FREQUENCY_LABELS
from graphmem.retrieve.lexical import _followed_positions
from graphmem.retrieve.types import parse_time

__all__ = ["MemoryProjection", "ProjectionVersionError", "parse_time", "year_month", "ROLE_WEIGHTS", "PROJECTION_VERSION"]

logger = logging.getLogger(__name__)

#: answer labels found in a turn's text rather than among its events' entities, and what finds them
STATED_KINDS = {DURATION_LABELS[0]: states_duration, AGE_LABELS[0]: states_age, FREQUENCY_LABELS[0]: states_frequency,
                ACTIVITY_LABELS[0]: states_activity}

PROJECTION_VERSION = 4  # 3: turn_asks; 4: turn_meta


class ProjectionVersionError(ValueError):
    """A saved projection written by another graphmem version (its ``PROJECTION_VERSION``): not
    damage, a cache to build again from the store, as every upgrade across a version bump meets."""
#: the node kinds of the projection, in the order of their global positions (see node_offset)
NODE_KINDS = ("turn", "event", "episode", "session", "entity", "topic")

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

#: Speaker names (case-insensitive) of assistants: their answers are generic knowledge, not memories.
ASSISTANT_ROLES = frozenset({"assistant", "ai", "bot", "model", "system"})


# A naive ISO 8601 date or date-time, as graphmem writes them: numpy parses a whole column of
# them at once, to the value parse_time gives (naive = UTC).
_NAIVE_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?")


def _times(values: Iterable[Any]) -> np.ndarray:
    """:func:`parse_time` of every value, as one array.

    Each distinct string is parsed once: the naive ISO ones by numpy in one call, the rest
    (offsets, ``Z``, anything unparseable) one at a time; values that are neither strings nor
    ``None`` (dates, datetimes) one at a time. Building the projection of the 100k-turn ``bench
    add`` memory took 0.97 s with the numpy call against 1.22 s value by value; a column
    repeats its values (an event's time is its turn's, most events state no time of their
    own), and parsing each once took the seven columns of a dev12-size memory (16,867 events)
    from 20.5 to 5.9 ms."""
    values = list(values)
    plain = set(map(type, values)) <= {str, type(None)}
    seconds: dict[Any, float] = dict.fromkeys(values) if plain else dict.fromkeys(v for v in values if type(v) is str)
    seconds.pop(None, None)
    naive = [v for v in seconds if _NAIVE_ISO.fullmatch(v)]
    if naive:
        try:
            stamps = np.array(naive, dtype="datetime64[us]")
        except ValueError:  # an impossible date (2026-02-30): parse_time says NaN for it, one by one below
            pass
        else:
            micros = stamps.astype(np.int64)
            exact = np.abs(micros) < 2**53  # a float holds them exactly (years 1685-2255): the same division
            seconds.update((v, s) for v, s, ok in zip(naive, (micros / 1e6).tolist(), exact.tolist()) if ok)
    for value, known in seconds.items():
        if known is None:
            seconds[value] = parse_time(value)
    seconds[None] = math.nan
    if not plain:  # dates, datetimes: one at a time
        return np.fromiter((seconds[v] if v is None or type(v) is str else parse_time(v) for v in values), dtype=np.float64,
                           count=len(values))
    return np.fromiter(map(seconds.__getitem__, values), dtype=np.float64, count=len(values))


def _weighted_pairs(rows: Sequence[Mapping[str, Any]], keys: tuple[str, str, str], first: Mapping[str, int],
                    second: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(source, target, weight)`` arrays of rows naming two nodes and a weight (1.0 when
    missing), the nodes mapped to positions by ``first`` and ``second``; rows naming an unknown
    node are skipped; sorted by source, target, weight. One pass per column and one
    ``lexsort``: a tuple per row sorted in Python took 0.6 s for the 146,000 topic memberships
    of a 100,000-turn memory."""
    a_key, b_key, w_key = keys
    a, b = _positions(_ids_of(rows, a_key), first), _positions(_ids_of(rows, b_key), second)
    weights = [r.get(w_key) for r in rows]
    if None in weights:
        weights = [1.0 if w is None else w for w in weights]
    weight = np.asarray(weights, dtype=np.float64).reshape(-1)
    kept = (a >= 0) & (b >= 0)
    source, target, weight = a[kept], b[kept], weight[kept]
    order = np.lexsort((weight, target, source))
    return source[order], target[order], weight[order]


def _ids_of(rows: Sequence[Mapping[str, Any]], key: str) -> list[str]:
    """The node ids of column ``key`` of ``rows``, as strings (as the position maps hold them)."""
    values = list(map(itemgetter(key), rows))
    return values if set(map(type, values)) <= {str} else [_key(v) for v in values]


def _positions(ids: list[str], where: Mapping[str, int]) -> np.ndarray:
    """Each id's position in ``where`` (-1: not there)."""
    return np.fromiter(map(where.get, ids, repeat(-1)), dtype=np.int64, count=len(ids))


def _key(value: Any) -> str:
    """A node id as the position maps hold them (ids are read as strings)."""
    return value if type(value) is str else str(value)


def _ints(values: Iterable[Any], default: int = 0) -> np.ndarray:
    return np.asarray([int(v) if v is not None else default for v in values], dtype=np.int64)


@dataclass
class MemoryProjection:
    """Arrays over the memory units of one namespace (see the module docstring).

    Build with :meth:`from_rows` or :meth:`load`; treat as immutable afterwards.
    """

    # turns
    turn_ids: list[str] = field(default_factory=list)
    turn_conversation: list[str] = field(default_factory=list)
    turn_session: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    turn_episode: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    turn_seq: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    turn_time: np.ndarray = field(default_factory=lambda: np.zeros(0))
    turn_speaker: list[str] = field(default_factory=list)
    turn_text: list[str] = field(default_factory=list)
    turn_source: list[str | None] = field(default_factory=list)
    # the metadata its message carried (Memory.add's, a JSONL line's; None: none), for search's metadata filter
    turn_meta: list[dict[str, Any] | None] = field(default_factory=list)
    # 1.0 where the turn's own text ends with a question mark (it asks rather than tells)
    turn_asks: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # sessions
    session_ids: list[str] = field(default_factory=list)
    session_key: list[str] = field(default_factory=list)
    session_number: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    session_time: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # episodes
    episode_ids: list[str] = field(default_factory=list)
    episode_start: np.ndarray = field(default_factory=lambda: np.zeros(0))
    episode_end: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # events
    event_ids: list[str] = field(default_factory=list)
    event_turn: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    event_text: list[str] = field(default_factory=list)
    event_time: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # the time a time expression of the event resolved to ("last Saturday", "in May"; NaN: none)
    event_span_start: np.ndarray = field(default_factory=lambda: np.zeros(0))
    event_span_end: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # entities
    entity_ids: list[str] = field(default_factory=list)
    entity_key: list[str] = field(default_factory=list)
    entity_name: list[str] = field(default_factory=list)
    entity_label: list[str] = field(default_factory=list)
    entity_canonical: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # hyperedges: event -> entity
    involves_event: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    involves_entity: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    involves_weight: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # topics
    topic_ids: list[str] = field(default_factory=list)
    topic_label: list[str] = field(default_factory=list)
    # edges between any nodes, as global positions (see node_offset)
    assoc_src: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    assoc_dst: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    assoc_w: np.ndarray = field(default_factory=lambda: np.zeros(0))
    member_src: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    member_topic: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    member_p: np.ndarray = field(default_factory=lambda: np.zeros(0))
    within_src: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    within_dst: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    within_w: np.ndarray = field(default_factory=lambda: np.zeros(0))

    # ------------------------------------------------------------------ sizes and ids
    @property
    def n_turns(self) -> int:
        """Number of turns."""
        return len(self.turn_ids)

    def count(self, unit: str) -> int:
        """Number of units of kind ``unit`` (``turn``, ``event``, ``episode``, ``session``, ``entity``, ``topic``)."""
        return len(self.ids(unit))

    def ids(self, unit: str) -> list[str]:
        """Node ids of one kind, in position order."""
        return {
            "turn": self.turn_ids, "event": self.event_ids, "episode": self.episode_ids,
            "session": self.session_ids, "entity": self.entity_ids, "topic": self.topic_ids,
        }[unit]

    @cached_property
    def node_offset(self) -> dict[str, int]:
        """Global position of the first node of each kind: turns, events, episodes, sessions, entities, topics."""
        offsets, at = {}, 0
        for kind in NODE_KINDS:
            offsets[kind] = at
            at += self.count(kind)
        offsets["end"] = at
        return offsets

    @cached_property
    def position(self) -> Mapping[str, Mapping[str, int]]:
        """unit kind -> {node id: position}; each kind's map made at its first use (a search's
        explanation looks up a few ids of one or two kinds: 14 ms at 100,000 turns for all)."""
        return _PositionMaps(self)

    def position_maps_made(self) -> list[str]:
        """The kinds whose :attr:`position` map is made."""
        maps = self.__dict__.get("position")
        return list(maps._made) if isinstance(maps, _PositionMaps) else []

    def global_kind(self, node: int) -> tuple[str, int]:
        """``(kind, position within kind)`` of a global node position."""
        for kind in ("topic", "entity", "session", "episode", "event", "turn"):
            if node >= self.node_offset[kind]:
                return kind, node - self.node_offset[kind]
        raise ValueError(f"bad node position {node}")

    # ------------------------------------------------------------------ derived structure
    @cached_property
    def prev_turn(self) -> np.ndarray:
        """Previous turn of the same session (-1 = none)."""
        n = self.n_turns
        same = np.zeros(n, dtype=bool)
        if n > 1:
            same[1:] = (self.turn_session[1:] == self.turn_session[:-1]) & (self.turn_session[1:] >= 0)
        return np.where(same, np.arange(n) - 1, -1)

    @cached_property
    def turn_answers(self) -> np.ndarray:
        """1.0 where the turn answers: the turn before it in its session (:attr:`prev_turn`) asks
        (:attr:`turn_asks`), said by another speaker, and this speaker is a person, not an
        assistant (:data:`ASSISTANT_ROLES`: its answers are not memories of the user)."""
        out = np.zeros(self.n_turns)
        if len(self.turn_asks) != self.n_turns:
            return out
        prev = self.prev_turn
        turns = np.flatnonzero(prev >= 0)
        turns = turns[self.turn_asks[prev[turns]] > 0]  # speakers compared after a question only (6 ms for all 100,000)
        if not len(turns):
            return out
        folded = self.turn_speaker_folded
        other = np.fromiter((folded[a] != folded[b] for a, b in zip(prev[turns].tolist(), turns.tolist())), dtype=bool,
                            count=len(turns))
        out[turns] = other & (self.turn_by_assistant[turns] == 0)
        return out

    @cached_property
    def turn_speaker_folded(self) -> list[str]:
        """Each turn's speaker, case folded (:func:`graphmem.scripts.fold_name`)."""
        return [fold_name(s) for s in self.turn_speaker]

    @cached_property
    def turn_entity_labels(self) -> dict[str, np.ndarray]:
        """Entity label -> 1.0 where one of the turn's events involves an entity with that label."""
        out: dict[str, np.ndarray] = {}
        if not len(self.involves_event) or not len(self.event_turn):
            return out
        labels = np.array(self.entity_label, dtype=object).reshape(-1)[self.involves_entity]
        turns = np.asarray(self.event_turn)[self.involves_event]
        for label in set(labels.tolist()):
            mask = np.zeros(self.n_turns)
            mask[turns[labels == label]] = 1.0
            out[label] = mask
        return out

    @cached_property
    def _turns_stating(self) -> dict[str, np.ndarray]:
        return {}

    @cached_property
    def _meta_codes(self) -> dict[str, np.ndarray]:
        return {}

    def meta_codes(self, key: str) -> np.ndarray:
        """Per turn, :func:`~graphmem.retrieve.types.metadata_code` of the value its message's
        metadata holds under ``key`` (``""`` when it holds none): what a search's metadata filter
        compares (an object array; made at first use per key, about 15 ms per 100,000 turns, and
        carried by a patch)."""
        found = self._meta_codes.get(key)
        if found is None:
            found = meta_code_column(self.turn_meta, key)
            self._meta_codes[key] = found
        return found

    def turns_stating(self, label: str) -> np.ndarray:
        """1.0 where the turn's text states what ``label`` of :data:`STATED_KINDS` stands for
        (``DURATION``: a span of time, "for 4 years"; ``AGE``: an age, "my grandma is 75";
        ``FREQUENCY``: how often, "three times a week"; ``ACTIVITY``: a pastime, "we went
        camping"); computed on first use, about 0.2-0.6 s per 100k turns."""
        found = self._turns_stating.get(label)
        if found is None:
            states = STATED_KINDS[label]
            found = np.array([1.0 if states(text) else 0.0 for text in self.turn_text], dtype=np.float64).reshape(-1)
            self._turns_stating[label] = found
        return found

    def turns_naming(self, labels: Iterable[str]) -> np.ndarray:
        """1.0 where one of the turn's events involves an entity with one of ``labels``, or, for
        a label of :data:`STATED_KINDS`, where the turn's text states one."""
        out = np.zeros(self.n_turns)
        for label in labels:
            found = self.turns_stating(label) if label in STATED_KINDS else self.turn_entity_labels.get(label)
            if found is not None:
                out = np.maximum(out, found)
        return out

    @cached_property
    def speaker_codes(self) -> tuple[dict[str, int], np.ndarray]:
        """Each speaker's code (by casefolded name) and the code of every turn's speaker."""
        codes: dict[str, int] = {}
        turns = np.array([codes.setdefault(s, len(codes)) for s in self.turn_speaker_folded], dtype=np.int32).reshape(-1)
        return codes, turns

    @cached_property
    def alias_names(self) -> dict[str, str]:
        """Casefolded alias name -> casefolded name of the entity it is an alias of ("mel" -> "melanie")."""
        canonical = self.entity_canonical
        return {fold_name(self.entity_name[i]): fold_name(self.entity_name[int(canonical[i])])
                for i in np.flatnonzero(canonical != np.arange(len(canonical)))}

    def speaker_named(self, names: Iterable[str]) -> int | None:
        """The code of the one speaker ``names`` name (by full or first name, or by an alias of
        theirs: "Mel" for Melanie), or None when they name none or several."""
        wanted = {fold_name(name) for name in names}
        wanted |= {self.alias_names[name] for name in wanted if name in self.alias_names}
        found = {code for speaker, code in self.speaker_codes[0].items()
                 if speaker in wanted or speaker.split(" ", 1)[0] in wanted}
        return found.pop() if len(found) == 1 else None

    @cached_property
    def turn_by_assistant(self) -> np.ndarray:
        """1.0 where the turn's speaker is an assistant (:data:`ASSISTANT_ROLES`)."""
        return np.array([s in ASSISTANT_ROLES for s in self.turn_speaker_folded], dtype=np.float64).reshape(-1)

    @cached_property
    def next_turn(self) -> np.ndarray:
        """Next turn of the same session (-1 = none)."""
        n = self.n_turns
        same = np.zeros(n, dtype=bool)
        if n > 1:
            same[:-1] = (self.turn_session[:-1] == self.turn_session[1:]) & (self.turn_session[:-1] >= 0)
        return np.where(same, np.arange(n) + 1, -1)

    @cached_property
    def event_span_months(self) -> tuple[np.ndarray, np.ndarray]:
        """Months since 1970-01 of the first and last month each event's time expression
        resolved to (``-1``: the event states no time)."""
        out = []
        for values in (self.event_span_start, self.event_span_end):
            months = np.full(len(values), -1, dtype=np.int64)
            finite = np.isfinite(values)
            if finite.any():
                months[finite] = values[finite].astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
            out.append(months)
        start, end = out
        end = np.where((start >= 0) & (end < start), start, end)
        return start, end

    @cached_property
    def event_span_days(self) -> tuple[np.ndarray, np.ndarray]:
        """Days since 1970-01-01 of the first and last day each event's time expression
        resolved to (NaN: the event states no time)."""
        start = np.floor(self.event_span_start / 86400.0)
        end = np.floor(self.event_span_end / 86400.0)
        return start, np.where(np.isfinite(start) & (end < start), start, end)

    @cached_property
    def turn_states_time(self) -> np.ndarray:
        """1.0 for each turn with an event whose time expression resolved ("yesterday", "in
        May 2022"), else 0.0."""
        out = np.zeros(self.n_turns)
        start, _ = self.event_span_months
        if len(start):
            out[np.unique(self.event_turn[start >= 0])] = 1.0
        return out

    @cached_property
    def episode_text(self) -> list[str]:
        """Text of each episode: its turns' indexed texts, in order."""
        parts: list[list[str]] = [[] for _ in self.episode_ids]
        for turn, episode in enumerate(self.turn_episode):
            if episode >= 0:
                parts[episode].append(self.turn_text[turn])
        return ["\n".join(p) for p in parts]

    @cached_property
    def turn_events(self) -> tuple[np.ndarray, np.ndarray]:
        """CSR-style ``(indptr, events)``: the events of turn ``t`` are ``events[indptr[t]:indptr[t+1]]``."""
        return _group(self.event_turn, self.n_turns)

    @cached_property
    def entity_events(self) -> tuple[np.ndarray, np.ndarray]:
        """CSR-style ``(indptr, events)`` of the events involving each entity."""
        indptr, order = _group(self.involves_entity, len(self.entity_ids))
        return indptr, self.involves_event[order]

    @cached_property
    def event_entities(self) -> tuple[np.ndarray, np.ndarray]:
        """CSR-style ``(indptr, entities)`` of the entities each event involves."""
        indptr, order = _group(self.involves_event, len(self.event_ids))
        return indptr, self.involves_entity[order]

    @cached_property
    def entity_degree(self) -> np.ndarray:
        """Number of events involving each entity."""
        return np.bincount(self.involves_entity, minlength=len(self.entity_ids)).astype(np.int64)

    def segments(self, unit: str) -> tuple[np.ndarray, np.ndarray]:
        """For ``session`` or ``episode``: per unit, the ``[start, end)`` range of its turns
        (turns of a unit are contiguous); empty units get ``start == end``."""
        owner = self.turn_session if unit == "session" else self.turn_episode
        count = self.count(unit)
        starts = np.full(count, 0, dtype=np.int64)
        ends = np.full(count, 0, dtype=np.int64)
        valid = owner >= 0
        if valid.any():
            positions = np.flatnonzero(valid)
            owners = owner[valid]
            # first and last turn position of every owner
            first = np.full(count, -1, dtype=np.int64)
            last = np.full(count, -2, dtype=np.int64)
            rev = positions[::-1]
            first[owners[::-1]] = rev
            last[owners] = positions
            has = first >= 0
            starts[has] = first[has]
            ends[has] = last[has] + 1
        return starts, ends

    @cached_property
    def session_segments(self) -> tuple[np.ndarray, np.ndarray]:
        """``segments("session")``, cached."""
        return self.segments("session")

    @cached_property
    def episode_segments(self) -> tuple[np.ndarray, np.ndarray]:
        """``segments("episode")``, cached."""
        return self.segments("episode")

    # ------------------------------------------------------------------ activation graph
    def graph(self, type_weights: Mapping[str, float] | None = None) -> Projection:
        """The typed, weighted graph over every node, for spreading activation.

        Nodes: turns, events, episodes, sessions, entities, topics (global positions, see
        :attr:`node_offset`). Edges: ``FROM`` (event -> turn), ``INVOLVES`` (event ->
        entity, weighted by role, see :data:`ROLE_WEIGHTS`), ``PART_OF`` (turn ->
        episode), ``IN`` (turn -> session), ``NEXT`` (consecutive turns of a conversation,
        consecutive episodes), ``ASSOCIATED`` (weight ``w``), ``IN_TOPIC`` (weight ``p``),
        ``WITHIN`` (topic -> topic) and ``ALIAS_OF`` (entity -> canonical entity).
        """
        off = self.node_offset
        node_ids = [*self.turn_ids, *self.event_ids, *self.episode_ids, *self.session_ids, *self.entity_ids, *self.topic_ids]
        kinds = (["turn"] * self.n_turns + ["event"] * len(self.event_ids) + ["episode"] * len(self.episode_ids)
                 + ["session"] * len(self.session_ids) + ["entity"] * len(self.entity_ids) + ["topic"] * len(self.topic_ids))
        proj = Projection(node_ids, kinds, dict(type_weights or EDGE_WEIGHTS), True)
        proj.index = {}  # ids are looked up through self.position; skip a second large dict
        turns = np.arange(self.n_turns)
        has_turn = self.event_turn >= 0
        proj.add_arrays(off["event"] + np.flatnonzero(has_turn), self.event_turn[has_turn], "FROM")
        proj.add_arrays(off["event"] + self.involves_event, off["entity"] + self.involves_entity, "INVOLVES", self.involves_weight)
        in_episode = self.turn_episode >= 0
        proj.add_arrays(turns[in_episode], off["episode"] + self.turn_episode[in_episode], "PART_OF")
        in_session = self.turn_session >= 0
        proj.add_arrays(turns[in_session], off["session"] + self.turn_session[in_session], "IN")
        # conversations compared as object arrays (element by element in C, not in a Python loop)
        conversation = np.empty(self.n_turns + 1, dtype=object)
        conversation[:self.n_turns], conversation[self.n_turns] = self.turn_conversation, ""
        if self.n_turns > 1:
            same_conv = np.asarray(conversation[:self.n_turns - 1] == conversation[1:self.n_turns], dtype=bool)
            proj.add_arrays(turns[:-1][same_conv], turns[1:][same_conv], "NEXT")
        if len(self.episode_ids) > 1:
            first_turn = self.episode_segments[0]
            conv = conversation[np.where(first_turn < self.n_turns, first_turn, self.n_turns)]  # "" past the last turn
            same = np.asarray(conv[:-1] == conv[1:], dtype=bool)
            eps = np.arange(len(self.episode_ids))
            proj.add_arrays(off["episode"] + eps[:-1][same], off["episode"] + eps[1:][same], "NEXT")
        proj.add_arrays(self.assoc_src, self.assoc_dst, "ASSOCIATED", self.assoc_w)
        proj.add_arrays(self.member_src, off["topic"] + self.member_topic, "IN_TOPIC", self.member_p)
        proj.add_arrays(off["topic"] + self.within_src, off["topic"] + self.within_dst, "WITHIN", self.within_w)
        alias = np.flatnonzero(self.entity_canonical != np.arange(len(self.entity_ids)))
        proj.add_arrays(off["entity"] + alias, off["entity"] + self.entity_canonical[alias], "ALIAS_OF")
        proj.join_edges()  # once, here, before searches share it
        return proj

    # ------------------------------------------------------------------ building
    @classmethod
    def from_rows(
        cls,
        turns: Sequence[Mapping[str, Any]],
        sessions: Sequence[Mapping[str, Any]] = (),
        episodes: Sequence[Mapping[str, Any]] = (),
        part_of: Sequence[Mapping[str, Any]] = (),
        events: Sequence[Mapping[str, Any]] = (),
        involves: Sequence[Mapping[str, Any]] = (),
        entities: Sequence[Mapping[str, Any]] = (),
        aliases: Sequence[Mapping[str, Any]] = (),
        associations: Sequence[Mapping[str, Any]] = (),
        topics: Sequence[Mapping[str, Any]] = (),
        topic_members: Sequence[Mapping[str, Any]] = (),
        topic_links: Sequence[Mapping[str, Any]] = (),
    ) -> MemoryProjection:
        """Build the projection from the rows of the ``read/projection_*`` queries.

        Rows that point at unknown nodes (written by a concurrent ingest, or left over)
        are skipped with a debug log; nothing here talks to a store.

        Args:
            turns: ``{id, session_id, conversation_id, seq, speaker, text, caption, source_id, timestamp}``.
            sessions: ``{id, conversation_id, key, number, started_at}``.
            episodes: ``{id, conversation_id, start_seq, started_at, ended_at}``.
            part_of: ``{turn_id, episode_id}``.
            events: ``{id, turn_id, speaker, text, timestamp, time_start, time_end}``.
            involves: ``{event_id, entity_id, role}``.
            entities: ``{id, key, name, label}``.
            aliases: ``{alias_id, entity_id}``.
            associations: ``{src, dst, w}`` between turns, events, episodes or sessions.
            topics: ``{id, label}``; topic_members: ``{member, topic, p}``; topic_links: ``{src, dst, w}``.

        Returns:
            The projection.
        """
        p = cls()
        session_rows = sorted(sessions, key=_session_key)
        p._set(_session_columns(session_rows))
        session_pos = {sid: i for i, sid in enumerate(p.session_ids)}

        # turns ordered by conversation, session order, seq: sessions are contiguous
        turn_rows = sorted(turns, key=lambda r: _turn_key(r, session_pos))
        p._set(_turn_columns(turn_rows, session_pos, p.session_time))
        turn_pos = {tid: i for i, tid in enumerate(p.turn_ids)}

        # episodes ordered by their first turn
        episode_of_turn = {str(r["turn_id"]): str(r["episode_id"]) for r in part_of}
        first_turn = _earliest((eid, turn_pos[tid]) for tid, eid in episode_of_turn.items() if tid in turn_pos)
        episode_rows = sorted(episodes, key=lambda r: (first_turn.get(str(r["id"]), 1 << 62), str(r["id"])))
        p._set(_episode_columns(episode_rows))
        episode_pos = {eid: i for i, eid in enumerate(p.episode_ids)}
        p.turn_episode = np.asarray([episode_pos.get(episode_of_turn.get(tid, ""), -1) for tid in p.turn_ids], dtype=np.int64)
        p._episode_times_from_turns(range(len(p.episode_ids)))

        # events ordered by their turn, then id order as read
        p._set(_event_columns(events, turn_pos, p.turn_time))
        event_pos = {vid: i for i, vid in enumerate(p.event_ids)}

        p._set(_entity_columns(entities, aliases))
        entity_pos = {nid: i for i, nid in enumerate(p.entity_ids)}
        p.involves_event, p.involves_entity, p.involves_weight = _involves_arrays(involves, event_pos, entity_pos)

        p._set(_topic_columns(topics))
        topic_pos = {tid: i for i, tid in enumerate(p.topic_ids)}

        # node id -> global position, for the ids named "<kind>:..." of each kind (one lookup per row)
        off = p.node_offset
        anywhere: dict[str, int] = {}
        for kind in NODE_KINDS:
            ids, prefix = p.ids(kind), kind + ":"
            if sum(map(str.startswith, ids, repeat(prefix))) == len(ids):
                anywhere.update(zip(ids, range(off[kind], off[kind] + len(ids))))
            else:
                anywhere.update((node, off[kind] + i) for i, node in enumerate(ids) if node.startswith(prefix))

        p.assoc_src, p.assoc_dst, p.assoc_w = _weighted_pairs(associations, ("src", "dst", "w"), anywhere, anywhere)
        p.member_src, p.member_topic, p.member_p = _weighted_pairs(topic_members, ("member", "topic", "p"), anywhere, topic_pos)
        p.within_src, p.within_dst, p.within_w = _weighted_pairs(topic_links, ("src", "dst", "w"), topic_pos, topic_pos)
        # the offset cache was filled while building; drop it so it matches the final arrays
        p.__dict__.pop("node_offset", None)
        return p

    def _set(self, columns: Mapping[str, Any]) -> None:
        for name, value in columns.items():
            setattr(self, name, value)

    def _episode_times_from_turns(self, episodes: Iterable[int]) -> None:
        """Give each of ``episodes`` without its own times the first and last time of its turns."""
        chosen = np.asarray(list(episodes), dtype=np.int64)
        if not len(chosen):
            return
        starts, ends = self.segments("episode")
        for e in chosen[~np.isfinite(self.episode_start[chosen]) & (ends[chosen] > starts[chosen])]:
            times = self.turn_time[starts[e]:ends[e]]
            known = np.isfinite(times).any()
            self.episode_start[e] = np.nanmin(times) if known else np.nan
            self.episode_end[e] = np.nanmax(times) if known else np.nan

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | os.PathLike[str], manifest: Mapping[str, Any] | None = None) -> None:
        """Write the projection to ``directory`` (``projection.npz`` + ``projection.json``),
        atomically (temporary files, then rename); ``manifest`` is stored alongside."""
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        arrays = {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), np.ndarray)}
        lists = {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), list)}
        tmp = path / "projection.tmp.npz"
        np.savez(tmp, **arrays)
        os.replace(tmp, path / "projection.npz")
        meta = {"version": PROJECTION_VERSION, "manifest": dict(manifest or {}), "lists": lists}
        tmp_json = path / "projection.json.tmp"
        tmp_json.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp_json, path / "projection.json")

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> tuple[MemoryProjection, dict[str, Any]]:
        """Read a projection written by :meth:`save`.

        Returns:
            ``(projection, manifest)``.

        Raises:
            FileNotFoundError: nothing saved there.
            ProjectionVersionError: written by another version (a ``ValueError``).
            ValueError: damaged.
        """
        path = Path(directory)
        meta = json.loads((path / "projection.json").read_text(encoding="utf-8"))
        if meta.get("version") != PROJECTION_VERSION:
            raise ProjectionVersionError(f"projection version {meta.get('version')} != {PROJECTION_VERSION}")
        p = cls()
        with np.load(path / "projection.npz", allow_pickle=False) as data:
            for f in fields(p):
                if isinstance(getattr(p, f.name), np.ndarray):
                    setattr(p, f.name, data[f.name])
        for name, values in meta["lists"].items():
            setattr(p, name, list(values))
        if len(p.turn_session) != len(p.turn_ids) or len(p.event_turn) != len(p.event_ids):
            raise ValueError("projection arrays disagree in length")
        return p, dict(meta.get("manifest") or {})


#: Set by :func:`graphmem.retrieve.patch.patched` on the projection it makes: ``(weak reference to
#: the projection patched, {kind: each of its units' position in the new one, -1: gone})``.
POSITIONS_FROM = "_positions_from"

#: Most units a carried position map holds apart from the map it carries (those the patches
#: since that map was made added or moved); past it (or a sixteenth of the units) the map is
#: made whole again.
CARRIED_POSITIONS_APART = 4096


class _PositionMaps(Mapping[str, Mapping[str, int]]):
    """:attr:`MemoryProjection.position`: unit kind -> {node id: position}, each made once.

    On a projection patched from one whose map of a kind was made, that map is carried
    (:class:`_MovedPositions`) instead of made again: 18-21 ms per search right after an add
    at 100,000 turns for the turns' and events' maps the ANN scorers look results up in."""

    def __init__(self, projection: MemoryProjection) -> None:
        self._projection = projection
        self._made: dict[str, Mapping[str, int]] = {}

    def __getitem__(self, kind: str) -> Mapping[str, int]:
        made = self._made.get(kind)
        if made is None:
            if kind not in NODE_KINDS:
                raise KeyError(kind)
            ids = self._projection.ids(kind)
            made = self._carried(kind, ids)
            if made is None:
                made = dict(zip(ids, range(len(ids))))
            self._made[kind] = made
        return made

    def _carried(self, kind: str, ids: Sequence[str]) -> Mapping[str, int] | None:
        origin = self._projection.__dict__.get(POSITIONS_FROM)
        if origin is None:
            return None
        before, moved = origin[0](), origin[1].get(kind)
        maps = before.__dict__.get("position") if before is not None else None
        earlier = maps._made.get(kind) if isinstance(maps, _PositionMaps) else None
        if earlier is None or moved is None or len(moved) != len(before.ids(kind)):
            return None
        return _MovedPositions.carried(earlier, moved, ids)

    def __iter__(self) -> Iterator[str]:
        return iter(NODE_KINDS)

    def __len__(self) -> int:
        return len(NODE_KINDS)


class _MovedPositions(Mapping[str, int]):
    """A position map carried through patches: a map made whole once (``base``: id -> its
    position then), each of those positions' position now (``now``, -1: gone), and the units
    not reached that way (``apart``: id -> position now; added, or read again)."""

    def __init__(self, base: Mapping[str, int], now: np.ndarray, apart: dict[str, int], ids: Sequence[str]) -> None:
        self._base, self._now, self._apart, self._ids = base, now, apart, ids

    @classmethod
    def carried(cls, earlier: Mapping[str, int], moved: np.ndarray, ids: Sequence[str]) -> _MovedPositions | None:
        """``earlier`` (the patched projection's map) carried through ``moved`` (each of its
        positions' position in the projection of ``ids``); ``None`` when too many units would
        be held apart."""
        if isinstance(earlier, _MovedPositions):
            base, now = earlier._base, _followed_positions(earlier._now, moved)
        else:
            base, now = earlier, np.asarray(moved, dtype=np.int64)
        reached = np.zeros(len(ids), dtype=bool)
        reached[now[now >= 0]] = True
        apart = np.flatnonzero(~reached)
        if len(apart) > max(CARRIED_POSITIONS_APART, len(ids) // 16):
            return None
        return cls(base, now, {ids[j]: j for j in apart.tolist()}, ids)

    def get(self, key: Any, default: Any = None) -> Any:
        position = self._apart.get(key)
        if position is not None:
            return position
        position = self._base.get(key)
        if position is None:
            return default
        position = int(self._now[position])
        return position if position >= 0 else default

    def __getitem__(self, key: str) -> int:
        position = self.get(key)
        if position is None:
            raise KeyError(key)
        return position

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


def _earliest(pairs: Iterable[tuple[str, int]], into: dict[str, int] | None = None) -> dict[str, int]:
    """Each key's smallest value of ``(key, value)`` pairs (added to ``into``): an episode's first turn."""
    out = into if into is not None else {}
    for key, value in pairs:
        if key not in out or value < out[key]:
            out[key] = value
    return out


def _session_key(r: Mapping[str, Any]) -> tuple[str, int, str]:
    """Where a session row goes: by conversation, then number."""
    return (str(r.get("conversation_id") or ""), int(r.get("number") or 0), str(r["id"]))


def _turn_key(r: Mapping[str, Any], session_pos: Mapping[str, int]) -> tuple[str, int, int, str]:
    """Where a turn row goes: by conversation, its session's position, then ``seq``."""
    return (str(r.get("conversation_id") or ""), session_pos.get(str(r.get("session_id")), -1), int(r.get("seq") or 0),
            str(r["id"]))


def _session_columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The session columns of ``rows`` (in their order)."""
    return {"session_ids": [str(r["id"]) for r in rows], "session_key": [str(r.get("key") or "") for r in rows],
            "session_number": _ints(r.get("number") for r in rows), "session_time": _times(r.get("started_at") for r in rows)}


def year_month(seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Calendar year and month of each time in epoch seconds (0 = unknown, for NaN); the
    turns' times moved into the user's calendar give their local ones
    (:func:`graphmem.timezones.local_seconds`)."""
    years = np.zeros(len(seconds), dtype=np.int64)
    months = np.zeros(len(seconds), dtype=np.int64)
    finite = np.isfinite(seconds)
    if finite.any():
        since = seconds[finite].astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)  # months since 1970-01
        years[finite] = since // 12 + 1970
        months[finite] = since % 12 + 1
    return years, months


def meta_code_column(metas: Sequence[Mapping[str, Any] | None], key: str) -> np.ndarray:
    """:func:`~graphmem.retrieve.types.metadata_code` of each of ``metas``' value under ``key`` (``""``: none)."""
    from graphmem.retrieve.types import metadata_code

    out = np.full(len(metas), "", dtype=object)
    for position, meta in enumerate(metas):
        if meta and key in meta:
            out[position] = metadata_code(meta[key])
    return out


def _turn_columns(rows: Sequence[Mapping[str, Any]], session_pos: Mapping[str, int], session_time: np.ndarray) -> dict[str, Any]:
    """The turn columns of ``rows`` (in their order) but ``turn_episode``; a turn without a time
    of its own takes its session's start."""
    sessions = np.asarray([session_pos.get(str(r.get("session_id")), -1) for r in rows], dtype=np.int64).reshape(-1)
    own = _times([r.get("timestamp") for r in rows])
    fallback = np.where(sessions >= 0, session_time[np.maximum(sessions, 0)] if len(session_time) else np.nan, np.nan)
    return {
        "turn_ids": [str(r["id"]) for r in rows],
        "turn_conversation": [str(r.get("conversation_id") or "") for r in rows],
        "turn_session": sessions,
        "turn_seq": _ints(r.get("seq") for r in rows),
        "turn_speaker": [str(r.get("speaker") or "") for r in rows],
        "turn_text": [indexed_text(r.get("speaker"), r.get("text"), r.get("caption")) for r in rows],
        "turn_source": [r.get("source_id") for r in rows],
        "turn_meta": [metadata_of(r.get("meta")) or None for r in rows],
        "turn_asks": np.asarray([str(r.get("text") or "").rstrip().endswith("?") for r in rows], dtype=np.float64).reshape(-1),
        "turn_time": np.where(np.isfinite(own), own, fallback),
    }


def _episode_columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The episode columns of ``rows`` (in their order), their own times only."""
    return {"episode_ids": [str(r["id"]) for r in rows], "episode_start": _times(r.get("started_at") for r in rows),
            "episode_end": _times(r.get("ended_at") or r.get("started_at") for r in rows)}


def _event_columns(rows: Sequence[Mapping[str, Any]], turn_pos: Mapping[str, int], turn_time: np.ndarray) -> dict[str, Any]:
    """The event columns of the ``rows`` whose turn is in ``turn_pos``, ordered by their turn,
    then id; an event without a time of its own takes its turn's."""
    event_turn = _positions([_key(r.get("turn_id")) for r in rows], turn_pos)
    known = np.flatnonzero(event_turn >= 0)
    if len(known) != len(rows):
        logger.debug("%d events without a known turn skipped", len(rows) - len(known))
    event_ids = _ids_of([rows[i] for i in known.tolist()], "id")
    order = np.lexsort((np.array(event_ids, dtype=str), event_turn[known])) if event_ids else known
    chosen = [rows[i] for i in known[order].tolist()]
    turns = event_turn[known[order]]
    own = _times([r.get("timestamp") for r in chosen])
    return {
        "event_ids": [event_ids[i] for i in order.tolist()],
        "event_turn": turns,
        "event_text": [indexed_text(r.get("speaker"), r.get("text"), None) for r in chosen],
        "event_time": np.where(np.isfinite(own), own, turn_time[turns] if len(turns) else own),
        "event_span_start": _times([r.get("time_start") for r in chosen]),
        "event_span_end": _times([r.get("time_end") or r.get("time_start") for r in chosen]),
    }


def _entity_columns(rows: Sequence[Mapping[str, Any]], aliases: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The entity columns (ordered by id), each entity's canonical one following ``aliases``."""
    entity_rows = sorted(rows, key=lambda r: str(r["id"]))
    ids = [str(r["id"]) for r in entity_rows]
    entity_pos = {nid: i for i, nid in enumerate(ids)}
    canonical = np.arange(len(ids), dtype=np.int64)
    for r in sorted(aliases, key=lambda r: (str(r["alias_id"]), str(r["entity_id"]))):  # the store's order is not kept
        a, c = entity_pos.get(str(r["alias_id"])), entity_pos.get(str(r["entity_id"]))
        if a is not None and c is not None and a != c:
            canonical[a] = c
    for _ in range(4):  # follow alias chains a -> b -> c to the end
        canonical = canonical[canonical]
    return {"entity_ids": ids, "entity_key": [str(r.get("key") or "") for r in entity_rows],
            "entity_name": [str(r.get("name") or r.get("key") or "") for r in entity_rows],
            "entity_label": [str(r.get("label") or "") for r in entity_rows], "entity_canonical": canonical}


def _involves_arrays(rows: Sequence[Mapping[str, Any]], event_pos: Mapping[str, int],
                     entity_pos: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(event, entity, weight)`` of the hyperedge rows whose ends are known, sorted by event,
    entity, then role name."""
    count = len(rows)
    inv_event = _positions(_ids_of(rows, "event_id"), event_pos)
    inv_entity = _positions(_ids_of(rows, "entity_id"), entity_pos)
    roles = [str(r.get("role")) for r in rows]
    role_names = sorted(set(roles))  # ordered as the roles' names
    role_code = {role: code for code, role in enumerate(role_names)}
    inv_role = np.fromiter(map(role_code.__getitem__, roles), dtype=np.int64, count=count)
    kept = (inv_event >= 0) & (inv_entity >= 0)
    inv_event, inv_entity, inv_role = inv_event[kept], inv_entity[kept], inv_role[kept]
    order = np.lexsort((inv_role, inv_entity, inv_event))
    role_weight = np.asarray([ROLE_WEIGHTS.get(role, 1.0) for role in role_names], dtype=np.float64)
    weight = role_weight[inv_role[order]] if len(role_names) else np.zeros(0, dtype=np.float64)
    return inv_event[order], inv_entity[order], weight


def _topic_columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The topic columns (ordered by id)."""
    topic_rows = sorted(rows, key=lambda r: str(r["id"]))
    return {"topic_ids": [str(r["id"]) for r in topic_rows], "topic_label": [str(r.get("label") or "") for r in topic_rows]}


def _group(owner: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``(indptr, order)``: items ``order[indptr[g]:indptr[g+1]]`` belong to group ``g`` (owner -1 dropped)."""
    owner = np.asarray(owner, dtype=np.int64)
    valid = np.flatnonzero(owner >= 0)
    order = valid[np.argsort(owner[valid], kind="stable")]
    counts = np.bincount(owner[valid], minlength=count) if count else np.zeros(0, dtype=np.int64)
    indptr = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return indptr, order
