"""The retrieval engine of one namespace: strategies over the projection and the indexes.

:class:`RetrievalEngine` holds everything a query needs in memory -- the
:class:`~graphmem.retrieve.projection.MemoryProjection`, one :class:`DenseScorer` per unit
kind (hnswlib ANN, or an exact matrix for small memories), the BM25 indexes, the entity
matcher and the activation graph -- and answers ``search(query, vector)`` for a validated
:class:`~graphmem.retrieve.types.Query` with :class:`RankedUnit` results carrying
explanations. It does no I/O: the caller embeds the query and hydrates the results (see
:class:`graphmem.search.SearchService`). Its constants are one
:class:`~graphmem.retrieve.config.RetrievalConfig`.

The strategies themselves live in :mod:`graphmem.retrieve.strategies`.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from datetime import tzinfo
from functools import cached_property
from typing import Any, Protocol

import numpy as np
import regex

from graphmem.retrieve.activation import Projection
from graphmem.retrieve.config import RetrievalConfig
from graphmem.retrieve.hierarchy import TurnStructure
from graphmem.retrieve.lexical import DEFAULT_STOPWORDS, LexicalIndex, Tokenizer
from graphmem.retrieve import strategies
from graphmem.retrieve.projection import MemoryProjection, year_month
from graphmem.retrieve.types import STRATEGIES, UNITS, Query, QueryContext, RankedUnit, Ranking, SearchFilter, metadata_code, top_k
from graphmem.scripts import fold_name
from graphmem.timezones import DAY_SECONDS, local_date, local_seconds

_GRAPH_WALKS = ("activation", "expansion")
"""Strategies that rank only the units their walk reaches (see :meth:`RetrievalEngine._after_the_walk`)."""
_BELOW_THE_WALK = 2
"""The units a walk did not reach score their cosine minus this: below every reached unit (above 0)."""

__all__ = [
    "DenseScorer",
    "EntityMatcher",
    "RankedUnit",
    "RetrievalEngine",
    "STRATEGIES",
    "UNITS",
    "build_lexical",
    "lexical_texts",
]

logger = logging.getLogger(__name__)



class _Index(Protocol):  # what DenseScorer needs of graphmem.index.VectorIndex
    def __len__(self) -> int: ...
    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]: ...
    def matrix(self, ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]: ...


class DenseScorer:
    """Cosine scores of a query against every unit of one kind, aligned with the projection.

    Args:
        unit: the unit kind.
        ids: the projection's ids of that kind (positions = list order).
        index: the ANN index holding their vectors (``None``: none yet).
        exact_limit: score exactly (matrix product over all vectors) up to this many units.
        depth: ANN candidates kept when not exact.
        position: id -> position of those ids, when the caller has it (the projection's
            :attr:`~graphmem.retrieve.projection.MemoryProjection.position` map, which the
            explanations use too): not made a second time (16-40 ms at 100,000 turns, at every
            search right after a write).
    """

    def __init__(self, unit: str, ids: Sequence[str], index: _Index | None, exact_limit: int, depth: int,
                 position: Mapping[str, int] | None = None) -> None:
        self.unit = unit
        self.n = len(ids)
        self._ids = ids  # the projection's own list, never changed (a copy was one more 100,000-item list per rebuild)
        self.depth = depth
        self._index = index
        self._matrix: np.ndarray | None = None
        self._present: np.ndarray | None = None
        self._position: Mapping[str, int] = {}
        if index is None or len(index) == 0 or self.n == 0:
            self.mode = "empty"
        elif self.n <= exact_limit:
            present, matrix = index.matrix(ids)
            self._matrix, self._present = (matrix if present.any() else np.zeros((self.n, 0), dtype=np.float32)), present
            self.mode = "exact"
        else:
            # twice as fast as a comprehension (100,000 ids: 16 ms)
            self._position = position if position is not None else dict(zip(ids, range(self.n)))
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
            present, matrix = self._index.matrix([self._ids[p] for p in chosen.tolist()])
            if present.any():
                out[chosen[present]] = matrix[present] @ np.asarray(vector, dtype=np.float32)
            return out
        depth = min(len(self._index), int(self.depth * self.n / len(chosen)) + self.depth)
        for node, score in self._index.query(vector, depth):
            pos = self._position.get(node)
            if pos is not None and allowed[pos]:
                out[pos] = score
        return out


_WORD_RE = regex.compile(r"[\p{L}\p{N}][\p{L}\p{N}\p{M}]*(?:['’][\p{L}\p{N}][\p{L}\p{N}\p{M}]*)?")  # (marks in their word)


class EntityMatcher:
    """Finds the entities a query names, by their normalised keys and aliases.

    Every entity is indexed under its key and its display name (normalised with
    :func:`graphmem.extract.resolve.normalise_name`); a query is scanned for the longest
    word n-grams (up to the longest key) that match, also trying the singular of the last
    word. Single stop words never match. An alias entity (``ALIAS_OF``) brings its
    canonical entity with it.

    Args:
        projection: the memory projection.
        ngram_limit: longest name matched, in words.
    """

    def __init__(self, projection: MemoryProjection, ngram_limit: int) -> None:
        from graphmem.extract.resolve import normalise_name

        self._normalise = normalise_name
        self._keys: dict[str, list[int]] = {}
        longest = 1
        for pos, (key, name) in enumerate(zip(projection.entity_key, projection.entity_name)):
            for form in {key, normalise_name(name)} - {""}:
                self._keys.setdefault(form, []).append(pos)
                longest = max(longest, len(form.split()))
        self._longest = min(longest, ngram_limit)
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


class RetrievalEngine:
    """Answers queries over one namespace's projection and indexes.

    Args:
        projection: the memory projection.
        dense: unit kind -> :class:`DenseScorer` (missing kinds score nothing).
        lexical: unit kind -> prebuilt :class:`LexicalIndex` (``turn``, ``episode``; the
            ``event`` index is built on first use when absent).
        config: the retrieval constants (default: :class:`RetrievalConfig` ()).
        tokenizer: the BM25 tokenizer of queries and of indexes built here.
        tz: the calendar of the memory's user (``None``: UTC): the day a query is asked and
            the days and months turns were said on are read there (see :mod:`graphmem.timezones`).
    """

    def __init__(self, projection: MemoryProjection, dense: Mapping[str, DenseScorer],
                 lexical: Mapping[str, LexicalIndex], config: RetrievalConfig | None = None,
                 tokenizer: Tokenizer | None = None, tz: tzinfo | None = None) -> None:
        self.projection = projection
        self.config = config or RetrievalConfig()
        self.tz = tz
        self.tokenizer = tokenizer or Tokenizer()
        self.dense = {u: dense.get(u) or DenseScorer(u, projection.ids(u), None, 0, 0) for u in UNITS}
        self._lexical: dict[str, LexicalIndex] = dict(lexical)
        self._stale_lexical: dict[str, LexicalIndex] = {}  # an earlier engine's, for building one here

    def inherit(self, previous: RetrievalEngine) -> None:
        """Take over what ``previous`` (the engine a write made stale) built that this one would
        build the same: its entity matcher when the entities, their aliases and the n-gram limit
        are unchanged (a dev12-size memory's 4,971 names took 12 ms to index), and its BM25
        indexes built on first use (``event``), as the stale index the new one updates."""
        mine, theirs = self.projection, previous.projection
        if ("matcher" in previous.__dict__ and self.config.entity_ngram_limit == previous.config.entity_ngram_limit
                and mine.entity_key == theirs.entity_key and mine.entity_name == theirs.entity_name
                and np.array_equal(mine.entity_canonical, theirs.entity_canonical)):
            self.__dict__["matcher"] = previous.__dict__["matcher"]
        if self.tokenizer == previous.tokenizer:
            self._stale_lexical = {unit: index for unit, index in previous._lexical.items() if unit not in self._lexical}

    def with_config(self, config: RetrievalConfig) -> RetrievalEngine:
        """An engine over the same projection and indexes with other constants (for tuning)."""
        return self._copy(config, self.tz)

    def in_zone(self, tz: tzinfo | None) -> RetrievalEngine:
        """This engine reading the days turns were said on in ``tz`` (a namespace's zone set
        since it was built): the same projection and indexes, the turns' calendar made again."""
        return self._copy(self.config, tz)

    def _copy(self, config: RetrievalConfig, tz: tzinfo | None) -> RetrievalEngine:
        engine = RetrievalEngine(self.projection, self.dense, self._lexical, config, self.tokenizer, tz)
        for name in ("structure", "graph", "associations", "matcher", "unit_times"):
            if name in self.__dict__ and not (name == "matcher" and config.entity_ngram_limit != self.config.entity_ngram_limit) \
                    and not (name == "graph" and config.edge_weights != self.config.edge_weights) \
                    and not (name == "structure" and tz != self.tz):
                engine.__dict__[name] = self.__dict__[name]
        return engine

    # ------------------------------------------------------------------ what a QueryContext reads
    def dense_scores(self, unit: str, vector: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        """Cosine of ``vector`` with each unit of ``unit`` (``NaN`` = not retrieved); with
        ``allowed`` (a search filter's mask), every unit it keeps is scored and no other."""
        return self.dense[unit].scores(vector, allowed)

    def lexical_scores(self, unit: str, text: str) -> np.ndarray:
        """BM25 of ``text`` against each unit of ``unit`` (zeros where no term matches)."""
        index = self.lexical(unit)
        return index.scores(text) if len(index) else np.zeros(self.projection.count(unit))

    def match_entities(self, text: str) -> list[tuple[int, str]]:
        """``(entity position, surface)`` for the entities ``text`` names (see :class:`EntityMatcher`)."""
        return self.matcher.match(text)

    def tokenize(self, text: str) -> list[str]:
        """``text`` as BM25 terms."""
        return self.tokenizer(text)

    def indexed_tokens(self, unit: str, position: int) -> list[str] | None:
        """The BM25 terms the built index of ``unit`` holds for its unit at ``position``, when it
        holds them and tokenises as :meth:`tokenize` does (``None`` otherwise)."""
        index = self._lexical.get(unit)
        if index is None or index.tokenizer != self.tokenizer or len(index) != self.projection.count(unit):
            return None
        return index.tokens_at(position)

    # ------------------------------------------------------------------ shared structures
    def built_lexical(self, unit: str) -> LexicalIndex | None:
        """The BM25 index of ``unit`` when this engine has it already (none is built here)."""
        return self._lexical.get(unit)

    def lexical(self, unit: str) -> LexicalIndex:
        """The BM25 index of ``unit`` (built from the projection's texts when missing)."""
        if unit not in self._lexical:
            self._lexical[unit] = build_lexical(self.projection, unit, self.tokenizer, reuse=self._stale_lexical.pop(unit, None))
        return self._lexical[unit]

    @cached_property
    def structure(self) -> TurnStructure:
        """Turn positions of episodes, sessions, neighbours, events and dates for the hierarchy."""
        p = self.projection
        said = local_seconds(p.turn_time, self.tz)  # the user's calendar (the same array for UTC)
        years, months = year_month(said)
        return TurnStructure(
            n_turns=p.n_turns, turn_episode=p.turn_episode, turn_session=p.turn_session,
            prev_turn=p.prev_turn, next_turn=p.next_turn, event_turn=p.event_turn,
            turn_year=years, turn_month=months, n_episodes=len(p.episode_ids), n_sessions=len(p.session_ids),
            event_months=p.event_span_months, turn_states_time=p.turn_states_time, turn_days=np.floor(said / DAY_SECONDS),
            event_days=p.event_span_days)

    @cached_property
    def graph(self) -> Projection:
        """The activation graph (built on first use)."""
        return self.projection.graph(self.config.edge_weights)

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
        return EntityMatcher(self.projection, self.config.entity_ngram_limit)

    @cached_property
    def unit_times(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """unit -> ``(start, end)`` times per unit, for time filtering. A session spans its start
        and its turns' times (a sitting past midnight is on both days, as its turns and episodes are)."""
        p = self.projection
        first, last = p.session_time.copy(), p.session_time.copy()
        placed = p.turn_session >= 0
        with np.errstate(invalid="ignore"):
            np.fmin.at(first, p.turn_session[placed], p.turn_time[placed])  # fmin/fmax: a missing time is passed over
            np.fmax.at(last, p.turn_session[placed], p.turn_time[placed])
        return {
            "turn": (p.turn_time, p.turn_time),
            "event": (p.event_time, p.event_time),
            "episode": (p.episode_start, p.episode_end),
            "session": (first, last),
        }

    def time_mask(self, unit: str, window: tuple[float, float]) -> np.ndarray:
        """Units whose time span overlaps ``window``; units without a time are excluded."""
        start, end = self.unit_times[unit]
        with np.errstate(invalid="ignore"):
            return np.isfinite(start) & (end >= window[0]) & (start <= window[1])

    # ------------------------------------------------------------------ the query
    def filter_masks(self, search_filter: SearchFilter) -> dict[str, np.ndarray]:
        """Per unit, which units ``search_filter`` keeps (boolean masks over the projection).

        Turns are chosen by their speaker, conversation, session key and message metadata, less
        the excluded ones; an event goes with its turn; an episode or a session is kept when one of its
        turns is; an excluded event, episode or session is not.
        """
        p = self.projection
        turns = np.ones(p.n_turns, dtype=bool)
        if search_filter.speaker is not None:
            wanted = fold_name(search_filter.speaker)
            turns &= np.array([s == wanted for s in p.turn_speaker_folded], dtype=bool)
        if search_filter.conversation is not None:
            turns &= np.array([c == search_filter.conversation for c in p.turn_conversation], dtype=bool)
        if search_filter.session is not None:
            keys = np.array([k == search_filter.session for k in p.session_key] + [False], dtype=bool)
            turns &= keys[np.where(p.turn_session >= 0, p.turn_session, len(p.session_key))]
        for key, value in search_filter.metadata or ():
            turns &= p.meta_codes(key) == metadata_code(value)
        excluded: dict[str, list[int]] = {unit: [] for unit in UNITS}
        if search_filter.exclude:  # (the id -> position maps are made at first use: only then)
            excluded = {unit: [p.position[unit][node] for node in search_filter.exclude if node in p.position[unit]]
                        for unit in UNITS}
        turns[excluded["turn"]] = False
        counts = np.concatenate([[0], np.cumsum(turns)])
        masks = {"turn": turns, "event": turns[p.event_turn] if len(p.event_turn) else np.zeros(0, dtype=bool)}
        for unit in ("episode", "session"):
            starts, ends = p.episode_segments if unit == "episode" else p.session_segments
            masks[unit] = counts[ends] > counts[starts]
        for unit in ("event", "episode", "session"):
            masks[unit][excluded[unit]] = False
        return masks

    # ------------------------------------------------------------------ the query

    def search(self, query: Query, vector: np.ndarray) -> list[RankedUnit]:
        """Rank the units of ``query.unit`` for a validated query.

        Args:
            query: the query, validated by :func:`~graphmem.retrieve.types.validate_query`.
            vector: its embedding (unit length).

        Returns:
            Up to ``query.k`` results, best first; ties broken by memory order.
        """
        unit, window = query.unit, query.window
        ranking, scores, chosen = self._rank(query, vector)
        if ranking is None:
            return []
        ids = self.projection.ids(unit)
        results = []
        for pos in chosen:
            explanation = ranking.explain(int(pos))
            if window is not None:
                explanation = {**explanation, "time_range": [_iso(window[0], self.tz), _iso(window[1], self.tz)]}
            if query.filter is not None:
                explanation = {**explanation, "filter": query.filter.describe()}
            results.append(RankedUnit(ids[pos], unit, float(scores[pos]), ranking.strategy, explanation,
                                      self.provenance(unit, int(pos))))
        return results

    def top_positions(self, query: Query, vector: np.ndarray) -> np.ndarray:
        """Positions of the best ``query.k`` units, as :meth:`search` ranks them, without
        building explanations (for evaluation, which scores many configurations)."""
        return self._rank(query, vector)[2]

    def _rank(self, query: Query, vector: np.ndarray) -> tuple[Ranking | None, np.ndarray, np.ndarray]:
        unit, window = query.unit, query.window
        if self.projection.count(unit) == 0:
            return None, np.zeros(0), np.zeros(0, dtype=np.int64)
        masks = self.filter_masks(query.filter) if query.filter is not None else None
        if masks is not None and not masks[unit].any():
            return None, np.zeros(0), np.zeros(0, dtype=np.int64)
        context = QueryContext(self, query.text, vector, masks, local_date(query.as_of, self.tz))
        ranking = strategies.run(query.strategy, context, unit)
        scores = np.asarray(ranking.scores, dtype=np.float64).copy()
        kept = masks[unit].copy() if masks is not None else np.ones(len(scores), dtype=bool)
        if window is not None:
            kept &= self.time_mask(unit, window)
        scores[~kept] = -np.inf
        scores[~np.isfinite(scores)] = -np.inf
        if ranking.floor is not None:
            below = scores <= ranking.floor
            scores[below] = -np.inf
            if ranking.strategy in _GRAPH_WALKS:  # kept, but not reached: after the reached ones
                unreached = kept & (below | ~np.isfinite(np.asarray(ranking.scores, dtype=np.float64)))
                if np.isfinite(scores).sum() < query.k and unreached.any():
                    ranking = self._after_the_walk(ranking, scores, unreached, unit, vector)
        return ranking, scores, top_k(scores, query.k)

    def _after_the_walk(self, ranking: Ranking, scores: np.ndarray, unreached: np.ndarray, unit: str,
                        vector: np.ndarray) -> Ranking:
        """A graph walk (activation, expansion) reaches only the units linked to its seeds; when
        fewer than ``k`` of the units a search keeps are reached, the others follow them, by their
        cosine to the query (scores ``cosine - 2``: below every reached unit's), so that ``k`` hits
        come back whenever ``k`` units match. ``scores`` is filled in place."""
        cosines = np.nan_to_num(np.asarray(self.dense_scores(unit, vector, unreached), dtype=np.float64), nan=-1.0)
        scores[unreached] = np.clip(cosines[unreached], -1.0, 1.0) - _BELOW_THE_WALK
        walked = ranking.explain

        def explain(pos: int) -> dict[str, Any]:
            if not unreached[pos]:
                return walked(pos)
            return {"strategy": ranking.strategy, "score": round(float(scores[pos]), 4),
                    "contributions": {"dense": round(float(scores[pos]) + _BELOW_THE_WALK, 4), "unreached": -_BELOW_THE_WALK},
                    "note": f"not reached by {ranking.strategy} from the query's seeds: ranked after the units it "
                            "reached, by cosine to the query"}

        return Ranking(ranking.strategy, scores, explain, ranking.floor)

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


def lexical_texts(projection: MemoryProjection, unit: str) -> Sequence[str]:
    """The texts the BM25 index of ``unit`` is built over, aligned with ``projection.ids(unit)``
    (turn texts carry the speaker: "Mel: ...")."""
    return {"turn": lambda: projection.turn_text, "event": lambda: projection.event_text,
            "episode": lambda: projection.episode_text,
            "session": lambda: ["\n".join(projection.turn_text[a:b]) for a, b in zip(*projection.session_segments)]}[unit]()


def build_lexical(projection: MemoryProjection, unit: str, tokenizer: Tokenizer | None = None, *,
                  reuse: LexicalIndex | None = None, carried: Any = None) -> LexicalIndex:
    """BM25 index over :func:`lexical_texts` of ``unit``; the tokens of texts ``reuse`` indexed
    are taken from it, by position where ``carried`` says where its units went (see
    :meth:`LexicalIndex.build`)."""
    return LexicalIndex.build(projection.ids(unit), lexical_texts(projection, unit), tokenizer or Tokenizer(), reuse=reuse,
                              carried=carried)


def _iso(seconds: float, tz: tzinfo | None) -> str | None:
    """A bound of a time filter as hits show times: in the memory's zone (UTC: ``+00:00``)."""
    if not math.isfinite(seconds):
        return None
    from datetime import datetime, timezone

    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    try:
        return moment.astimezone(tz).isoformat() if tz is not None else moment.isoformat()
    except (OverflowError, ValueError):  # within a day of year 1 or 9999: the instant in UTC
        return moment.isoformat()
