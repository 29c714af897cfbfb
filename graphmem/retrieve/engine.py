"""The retrieval engine of one namespace: strategies over the projection and the indexes.

:class:`RetrievalEngine` holds everything a query needs in memory -- the
:class:`~graphmem.retrieve.projection.MemoryProjection`, one :class:`DenseScorer` per unit
kind (hnswlib ANN, or an exact matrix for small memories), the BM25 indexes, the entity
matcher and the activation graph -- and answers ``search(text, vector, k, unit, strategy,
time_range)`` with :class:`RankedUnit` results carrying explanations. It does no I/O: the
caller embeds the query and hydrates the results (see :class:`graphmem.search.SearchService`).

The strategies themselves live in :mod:`graphmem.retrieve.strategies`.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from graphmem.retrieve.activation import Projection
from graphmem.retrieve.hierarchy import TurnStructure, pool_max
from graphmem.retrieve.lexical import DEFAULT_STOPWORDS, LexicalIndex, Tokenizer
from graphmem.retrieve import strategies
from graphmem.retrieve.projection import MemoryProjection
from graphmem.retrieve.router import QueryFeatures, RouteConfig
from graphmem.retrieve.types import STRATEGIES, UNITS, RankedUnit, SearchFilter, parse_time_range, top_k, validate_query

__all__ = [
    "DenseScorer",
    "EngineConfig",
    "EntityMatcher",
    "QueryContext",
    "RankedUnit",
    "RetrievalEngine",
    "STRATEGIES",
    "UNITS",
    "parse_time_range",
]

logger = logging.getLogger(__name__)



class _Index(Protocol):  # what DenseScorer needs of graphmem.index.VectorIndex
    def __len__(self) -> int: ...
    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]: ...
    def vectors(self, ids: Sequence[str]) -> np.ndarray: ...
    def contains(self, node_id: str) -> bool: ...


@dataclass(frozen=True)
class EngineConfig:
    """Knobs of the retrieval engine (defaults measured on LoCoMo dev; see RESULTS in the docs).

    Attributes:
        exact_limit: unit kinds with at most this many vectors are scored exactly against
            every unit (one matrix product, ~0.5 ms for 10k vectors on one core); larger ones
            through the ANN index, keeping the top ``candidates``.
        candidates: ANN depth for turns and events (units outside it count as not retrieved).
        coarse_candidates: ANN depth for episodes and sessions.
        route: the router's weights and switches for ``auto``: MemGAS entropy re-weighting of
            the turn and episode granularities (T = 0.3) and spreading activation (x0.5) for
            queries that name entities. On LoCoMo dev with the real entity graph, activation
            x0.5 moved turn R_all@10 78.8 -> 79.0, NDCG@10 61.3 -> 61.7, session R_all@3 84.0
            -> 84.6 (multi-hop R_all@10 18.9 -> 21.6); x0.25 and x1.0 were within 0.5 points.
        damping: share of activation passed on per hop in spreading activation.
        activation_steps: hops of spreading activation (4 with d = 0.5 keeps 97% of the PPR
            mass; on LoCoMo dev 3, 4 and 6 hops agree within 0.2 points).
        activation_prune: a node spreads on only when each of its edges carries at least
            this share of the wave's total (the push criterion; keeps hubs from flooding).
        seed_hits: at most this many top dense hits seed spreading activation ...
        seed_ratio: ... and only those scoring at least this fraction of the best hit (a
            hit far below the best is not evidence worth spreading from).
        expansion_seeds: how many best hits graph expansion starts from.
        expansion_weights: how much of a seed's relevance an edge passes to the neighbour it
            brings in, per edge type (``NEXT`` adjacent turn, ``PART_OF`` same episode,
            ``INVOLVES`` an event sharing an entity, ``ASSOCIATED`` a GMM association).
        shared_entity_limit: entities involved in more events than this (speakers, "family")
            are too common to link two memories in graph expansion.
        event_weight: for ``unit="event"`` under fused strategies, the weight of the event's
            own calibrated dense score added to its turn's score (ranks events within a turn).
    """

    exact_limit: int = 10_000
    candidates: int = 200
    coarse_candidates: int = 50
    route: RouteConfig = field(default_factory=lambda: RouteConfig(entropy_temperature=0.3, activation_weight=0.5))
    damping: float = 0.5
    activation_steps: int = 4
    activation_prune: float = 1e-4
    seed_hits: int = 5
    seed_ratio: float = 0.8
    expansion_seeds: int = 5
    expansion_weights: Mapping[str, float] = field(
        default_factory=lambda: {"NEXT": 0.5, "PART_OF": 0.3, "INVOLVES": 0.3, "ASSOCIATED": 0.5})
    shared_entity_limit: int = 25
    event_weight: float = 0.5


class DenseScorer:
    """Cosine scores of a query against every unit of one kind, aligned with the projection.

    Args:
        unit: the unit kind.
        ids: the projection's ids of that kind (positions = list order).
        index: the ANN index holding their vectors (``None``: none yet).
        exact_limit: score exactly (matrix product over all vectors) up to this many units.
        depth: ANN candidates kept when not exact.
    """

    def __init__(self, unit: str, ids: Sequence[str], index: _Index | None, exact_limit: int, depth: int) -> None:
        self.unit = unit
        self.n = len(ids)
        self._ids = list(ids)
        self.depth = depth
        self._index = index
        self._matrix: np.ndarray | None = None
        self._present: np.ndarray | None = None
        self._position: dict[str, int] = {}
        if index is None or len(index) == 0 or self.n == 0:
            self.mode = "empty"
        elif self.n <= exact_limit:
            present = np.array([index.contains(i) for i in ids], dtype=bool)
            have = [ids[i] for i in np.flatnonzero(present)]
            matrix = np.zeros((self.n, 0), dtype=np.float32)
            if have:
                vectors = index.vectors(have)
                matrix = np.zeros((self.n, vectors.shape[1]), dtype=np.float32)
                matrix[present] = vectors
            self._matrix, self._present = matrix, present
            self.mode = "exact"
        else:
            self._position = {node: i for i, node in enumerate(ids)}
            self.mode = "ann"

    def scores(self, vector: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        """Cosine per unit (``NaN`` = no vector, or outside the ANN candidates).

        With ``allowed`` (a boolean mask: a search filter), only those units are scored, and
        all of them: exactly when they are few (at most :attr:`depth` x 50), else through
        the ANN index with the depth widened by the share of units the filter keeps, so that
        a filter does not leave fewer candidates than an unfiltered search has.
        """
        if allowed is not None:
            return self._scores_within(vector, allowed)
        out = np.full(self.n, np.nan)
        if self.mode == "exact" and self._matrix is not None and self._matrix.shape[1]:
            values = self._matrix @ np.asarray(vector, dtype=np.float32)
            out[self._present] = values[self._present]
        elif self.mode == "ann" and self._index is not None:
            for node, score in self._index.query(vector, min(self.depth, len(self._index))):
                pos = self._position.get(node)
                if pos is not None:
                    out[pos] = score
        return out


    def _scores_within(self, vector: np.ndarray, allowed: np.ndarray) -> np.ndarray:
        out = np.full(self.n, np.nan)
        chosen = np.flatnonzero(allowed)
        if not len(chosen) or self.mode == "empty":
            return out
        if self.mode == "exact":
            return np.where(allowed, self.scores(vector), np.nan)
        assert self._index is not None
        if len(chosen) <= self.depth * 50:
            present = [int(p) for p in chosen if self._index.contains(self._ids[p])]
            if present:
                vectors = self._index.vectors([self._ids[p] for p in present])
                out[present] = vectors @ np.asarray(vector, dtype=np.float32)
            return out
        depth = min(len(self._index), int(self.depth * self.n / len(chosen)) + self.depth)
        for node, score in self._index.query(vector, depth):
            pos = self._position.get(node)
            if pos is not None and allowed[pos]:
                out[pos] = score
        return out


_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")


class EntityMatcher:
    """Finds the entities a query names, by their normalised keys and aliases.

    Every entity is indexed under its key and its display name (normalised with
    :func:`graphmem.extract.resolve.normalise_name`); a query is scanned for the longest
    word n-grams (up to the longest key) that match, also trying the singular of the last
    word. Single stop words never match. An alias entity (``ALIAS_OF``) brings its
    canonical entity with it.

    Args:
        projection: the memory projection.
    """

    def __init__(self, projection: MemoryProjection) -> None:
        from graphmem.extract.resolve import normalise_name

        self._normalise = normalise_name
        self._keys: dict[str, list[int]] = {}
        longest = 1
        for pos, (key, name) in enumerate(zip(projection.entity_key, projection.entity_name)):
            for form in {key, normalise_name(name)} - {""}:
                self._keys.setdefault(form, []).append(pos)
                longest = max(longest, len(form.split()))
        self._longest = min(longest, 6)
        self._canonical = projection.entity_canonical

    def __len__(self) -> int:
        return len(self._keys)

    def match(self, text: str) -> list[tuple[int, str]]:
        """``(entity position, surface)`` for each entity named in ``text`` (canonical
        entities of matched aliases included), in order of appearance, without repeats."""
        from graphmem.extract.resolve import singular_forms

        if not self._keys:
            return []
        words = _WORD_RE.findall(text)
        found: list[tuple[int, str]] = []
        seen: set[int] = set()
        i = 0
        while i < len(words):
            matched = 0
            for n in range(min(self._longest, len(words) - i), 0, -1):
                surface = " ".join(words[i:i + n])
                key = self._normalise(surface)
                if not key or (n == 1 and (key in DEFAULT_STOPWORDS or len(key) < 2)):
                    continue
                candidates = [key]
                head, _, last = key.rpartition(" ")
                candidates += sorted(f"{head} {s}" if head else s for s in singular_forms(last))
                hits = next((self._keys[c] for c in candidates if c in self._keys), None)
                if hits:
                    for pos in hits:
                        for entity in (pos, int(self._canonical[pos])):
                            if entity not in seen:
                                seen.add(entity)
                                found.append((entity, surface))
                    matched = n
                    break
            i += matched or 1
        return found


class QueryContext:
    """Per-query state: the query's features and its raw scores at every granularity,
    computed lazily and at most once."""

    def __init__(self, engine: RetrievalEngine, text: str, vector: np.ndarray,
                 allowed: Mapping[str, np.ndarray] | None = None) -> None:
        self.engine = engine
        self.projection = engine.projection
        self.config = engine.config
        self.text = text
        self.vector = np.asarray(vector, dtype=np.float32)
        self.allowed = allowed
        """Per unit, the units a search filter keeps (``None``: no filter)."""
        self._dense: dict[str, np.ndarray] = {}
        self._lexical: dict[str, np.ndarray] = {}

    def dense(self, unit: str) -> np.ndarray:
        """Cosine of the query with each unit of ``unit`` (``NaN`` = not retrieved; with a
        filter, every unit it keeps is retrieved and no other)."""
        if unit not in self._dense:
            allowed = self.allowed.get(unit) if self.allowed is not None else None
            self._dense[unit] = self.engine.dense[unit].scores(self.vector, allowed)
        return self._dense[unit]

    def lexical(self, unit: str) -> np.ndarray:
        """BM25 of the query against each unit of ``unit`` (zeros where no term matches)."""
        if unit not in self._lexical:
            index = self.engine.lexical(unit)
            self._lexical[unit] = index.scores(self.text) if len(index) else np.zeros(self.projection.count(unit))
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
        return self.engine.matcher.match(self.text)

    @cached_property
    def features(self) -> QueryFeatures:
        """The query's cues (names, dates, temporal and aggregation cues)."""
        names = list(dict.fromkeys(self.projection.entity_name[e] for e, _ in self.entities))
        names += list(dict.fromkeys(s for _, s in self.entities))
        return QueryFeatures.from_query(self.text, names)

    @cached_property
    def query_terms(self) -> set[str]:
        """The query's BM25 terms."""
        return set(self.engine.tokenizer(self.text))

    def matched_terms(self, text: str) -> list[str]:
        """Query terms that occur in ``text`` (as BM25 sees them)."""
        return sorted(self.query_terms & set(self.engine.tokenizer(text)))


class RetrievalEngine:
    """Answers queries over one namespace's projection and indexes.

    Args:
        projection: the memory projection.
        dense: unit kind -> :class:`DenseScorer` (missing kinds score nothing).
        lexical: unit kind -> prebuilt :class:`LexicalIndex` (``turn``, ``episode``; the
            ``event`` index is built on first use when absent).
        config: engine knobs.
    """

    def __init__(self, projection: MemoryProjection, dense: Mapping[str, DenseScorer],
                 lexical: Mapping[str, LexicalIndex], config: EngineConfig | None = None,
                 tokenizer: Tokenizer | None = None) -> None:
        self.projection = projection
        self.config = config or EngineConfig()
        self.tokenizer = tokenizer or Tokenizer()
        self.dense = {u: dense.get(u) or DenseScorer(u, projection.ids(u), None, 0, 0) for u in UNITS}
        self._lexical: dict[str, LexicalIndex] = dict(lexical)

    # ------------------------------------------------------------------ shared structures
    def lexical(self, unit: str) -> LexicalIndex:
        """The BM25 index of ``unit`` (built from the projection's texts when missing)."""
        if unit not in self._lexical:
            self._lexical[unit] = build_lexical(self.projection, unit, self.tokenizer)
        return self._lexical[unit]

    @cached_property
    def structure(self) -> TurnStructure:
        """Turn positions of episodes, sessions, neighbours, events and dates for the hierarchy."""
        p = self.projection
        years, months = p.turn_year_month
        return TurnStructure(
            n_turns=p.n_turns, turn_episode=p.turn_episode, turn_session=p.turn_session,
            prev_turn=p.prev_turn, next_turn=p.next_turn, event_turn=p.event_turn,
            turn_year=years, turn_month=months, n_episodes=len(p.episode_ids), n_sessions=len(p.session_ids))

    @cached_property
    def graph(self) -> Projection:
        """The activation graph (built on first use)."""
        return self.projection.graph()

    @cached_property
    def associations(self):
        """Symmetric sparse matrix of ``ASSOCIATED`` weights between global node positions."""
        import scipy.sparse as sp

        p = self.projection
        n = p.node_offset["end"]
        rows = np.concatenate([p.assoc_src, p.assoc_dst])
        cols = np.concatenate([p.assoc_dst, p.assoc_src])
        data = np.concatenate([p.assoc_w, p.assoc_w])
        matrix = sp.csr_matrix((data, (rows, cols)), shape=(n, n))
        matrix.sum_duplicates()
        return matrix

    @cached_property
    def matcher(self) -> EntityMatcher:
        """Query entity matching over the projection's entities and aliases."""
        return EntityMatcher(self.projection)

    @cached_property
    def unit_times(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """unit -> ``(start, end)`` times per unit, for time filtering."""
        p = self.projection
        return {
            "turn": (p.turn_time, p.turn_time),
            "event": (p.event_time, p.event_time),
            "episode": (p.episode_start, p.episode_end),
            "session": (p.session_time, p.session_time),
        }

    def time_mask(self, unit: str, window: tuple[float, float]) -> np.ndarray:
        """Units whose time span overlaps ``window``; units without a time are excluded."""
        start, end = self.unit_times[unit]
        with np.errstate(invalid="ignore"):
            return np.isfinite(start) & (end >= window[0]) & (start <= window[1])

    def filter_masks(self, search_filter: SearchFilter) -> dict[str, np.ndarray]:
        """Per unit, which units ``search_filter`` keeps (boolean masks over the projection).

        Turns are chosen by their speaker, conversation and session key; an event goes with
        its turn; an episode or a session is kept when one of its turns is.
        """
        p = self.projection
        turns = np.ones(p.n_turns, dtype=bool)
        if search_filter.speaker is not None:
            wanted = search_filter.speaker.casefold()
            turns &= np.array([(s or "").casefold() == wanted for s in p.turn_speaker], dtype=bool)
        if search_filter.conversation is not None:
            turns &= np.array([c == search_filter.conversation for c in p.turn_conversation], dtype=bool)
        if search_filter.session is not None:
            keys = np.array([k == search_filter.session for k in p.session_key] + [False], dtype=bool)
            turns &= keys[np.where(p.turn_session >= 0, p.turn_session, len(p.session_key))]
        counts = np.concatenate([[0], np.cumsum(turns)])
        masks = {"turn": turns, "event": turns[p.event_turn] if len(p.event_turn) else np.zeros(0, dtype=bool)}
        for unit in ("episode", "session"):
            starts, ends = p.episode_segments if unit == "episode" else p.session_segments
            masks[unit] = counts[ends] > counts[starts]
        return masks

    # ------------------------------------------------------------------ the query
    def search(self, text: str, vector: np.ndarray, k: int, unit: str = "turn", strategy: str = "auto",
               time_range: Any = None, search_filter: SearchFilter | None = None) -> list[RankedUnit]:
        """Rank the units of ``unit`` for a query.

        Args:
            text: the query text.
            vector: its embedding (unit length).
            k: how many results.
            unit: ``turn``, ``event``, ``episode`` or ``session``.
            strategy: one of :data:`STRATEGIES`.
            time_range: optional ``(start, end)`` (see :func:`parse_time_range`).
            search_filter: optional speaker/conversation/session restriction: every
                strategy scores within it (dense scores every unit it keeps, so that ``k``
                results come back whenever ``k`` units it keeps are retrieved at all), and
                only units it keeps are returned.

        Returns:
            Up to ``k`` results, best first; ties broken by memory order.

        Raises:
            InputError: empty query, bad ``k``, unknown unit or strategy, or a bad time range.
        """
        window = validate_query(text, k, unit, strategy, time_range)
        if self.projection.count(unit) == 0:
            return []
        masks = self.filter_masks(search_filter) if search_filter is not None else None
        if masks is not None and not masks[unit].any():
            return []
        context = QueryContext(self, text, vector, masks)
        ranking = strategies.run(strategy, context, unit)
        scores = np.asarray(ranking.scores, dtype=np.float64).copy()
        scores[~np.isfinite(scores)] = -np.inf
        if ranking.floor is not None:
            scores[scores <= ranking.floor] = -np.inf
        if window is not None:
            scores[~self.time_mask(unit, window)] = -np.inf
        if masks is not None:
            scores[~masks[unit]] = -np.inf
        chosen = top_k(scores, k)
        ids = self.projection.ids(unit)
        results = []
        for pos in chosen:
            explanation = ranking.explain(int(pos))
            if window is not None:
                explanation = {**explanation, "time_range": [_iso(window[0]), _iso(window[1])]}
            if search_filter is not None:
                explanation = {**explanation, "filter": search_filter.describe()}
            results.append(RankedUnit(ids[pos], unit, float(scores[pos]), ranking.strategy, explanation,
                                      self.provenance(unit, int(pos))))
        return results

    def provenance(self, unit: str, pos: int) -> dict[str, Any]:
        """Session, conversation and source id of a unit, from the projection."""
        p = self.projection
        if unit == "session":
            session = pos
            starts, ends = p.session_segments
            turn = int(starts[pos]) if ends[pos] > starts[pos] else -1
        else:
            if unit == "turn":
                turn = pos
            elif unit == "event":
                turn = int(p.event_turn[pos])
            else:
                starts, ends = p.episode_segments
                turn = int(starts[pos]) if ends[pos] > starts[pos] else -1
            session = int(p.turn_session[turn]) if turn >= 0 else -1
        out: dict[str, Any] = {}
        if session >= 0:
            out.update(session_id=p.session_ids[session], session_key=p.session_key[session],
                       session_number=int(p.session_number[session]))
        if turn >= 0:
            out["conversation_id"] = p.turn_conversation[turn] or None
            if unit in ("turn", "event"):
                out["source_id"] = p.turn_source[turn]
            elif unit == "episode":
                last = int(p.episode_segments[1][pos]) - 1
                first_id, last_id = p.turn_source[turn], p.turn_source[last]
                out["source_id"] = (f"{first_id}–{last_id}" if first_id and last_id and last != turn else first_id)
        return out


def build_lexical(projection: MemoryProjection, unit: str, tokenizer: Tokenizer | None = None) -> LexicalIndex:
    """BM25 index over the texts of ``unit`` (turn texts carry the speaker: "Mel: ...")."""
    texts = {"turn": lambda: projection.turn_text, "event": lambda: projection.event_text,
             "episode": lambda: projection.episode_text,
             "session": lambda: ["\n".join(projection.turn_text[a:b]) for a, b in zip(*projection.session_segments)]}[unit]()
    return LexicalIndex.build(projection.ids(unit), texts, tokenizer or Tokenizer())


def _iso(seconds: float) -> str | None:
    if not math.isfinite(seconds):
        return None
    from datetime import datetime, timezone

    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()
