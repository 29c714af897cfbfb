"""Event-level units and resolved entities: each Event is a hyperedge over its participants."""

from __future__ import annotations

import logging
import threading
from datetime import tzinfo
from typing import Any, Callable

import numpy as np

from graphmem.embed import Embedder, encoding_order
from graphmem.extract.entities import select_entities
from graphmem.extract.events import EventLimits, split_events
from graphmem.extract.nlp import LanguagePipeline, Mention
from graphmem.extract.resolve import AliasRecord, EntityRecord, EntityResolver, normalise_name
from graphmem.ids import node_id
from graphmem.runtime import freeze_loaded_objects
from graphmem.signals import reraise_stop, stops_deferred
from graphmem.ingest.types import PlannedTurn, StageOutput, UnitBatch, iso
from graphmem.store import GraphStore, chunked
from graphmem.timezones import to_local

__all__ = ["EventStage", "language_pipeline", "load_writer_models"]

logger = logging.getLogger(__name__)

MAX_ANALYSED_CHARS = 20_000
"""Events and entities are extracted from at most this much of a turn (cut at a space).
The turn itself is stored whole and embedded; a longer turn (a pasted document) would
otherwise yield thousands of events, and spaCy refuses texts over a million characters."""

EVENT_LIMITS = EventLimits()
"""Long turns (assistant essays) yield only their most content-bearing events."""

_PIPELINES: dict[str | None, LanguagePipeline] = {}
_PIPELINES_LOCK = threading.Lock()


def language_pipeline(model: str | None) -> LanguagePipeline:
    """The process-wide language pipeline for ``model`` (trained when installed, else rule-based)."""
    with _PIPELINES_LOCK:
        if model not in _PIPELINES:
            with stops_deferred():  # spaCy's import loads native code too, torch's through thinc (see stops_deferred)
                _PIPELINES[model] = LanguagePipeline.load(model)
                freeze_loaded_objects(f"language pipeline {_PIPELINES[model].kind}")
        return _PIPELINES[model]


def load_writer_models(model: str | None) -> None:
    """Load, once per process, what every writer needs besides the embedding model: the
    language pipeline for ``model`` and the parts of scikit-learn topic fitting uses (a server
    does this at start). In a new process that costs about 1.5 s on this project's 2-core
    machine (importing spaCy 0.8 s, scikit-learn 0.7 s), paid by its first ingest or add; and
    the date parser that loaders and time expressions fall back to (importing it: 0.11 s); and the
    English word list entity selection reads (decompressing it: 45 ms of the first add, holding the GIL)."""
    import dateutil.parser  # noqa: F401 - imported for its one-time cost

    from graphmem.cluster.topics import preload
    from graphmem.extract.vocabulary import english_words

    language_pipeline(model)
    english_words()
    with stops_deferred():  # scikit-learn's and scipy's native modules (see stops_deferred)
        preload()


def _analysed_part(text: str) -> str:
    """``text``, or its first :data:`MAX_ANALYSED_CHARS` characters (cut at a space) when longer."""
    if len(text) <= MAX_ANALYSED_CHARS:
        return text
    cut = text.rfind(" ", 0, MAX_ANALYSED_CHARS)
    logger.warning("a turn of %d characters: events are extracted from its first %d only", len(text), MAX_ANALYSED_CHARS)
    return text[: cut if cut > 0 else MAX_ANALYSED_CHARS]


class EventStage:
    """Split new turns into Events, find and resolve their entities, plan the writes."""

    def __init__(self, store: GraphStore, embedder: Embedder, language: LanguagePipeline, namespace: str, batch_size: int,
                 tz: tzinfo | None = None) -> None:
        self.store = store
        self.tz = tz  # the calendar a turn's relative time expressions resolve in (None: UTC)
        self.embedder = embedder
        self.language = language
        self.namespace = namespace
        self.batch_size = batch_size
        # entity-name embeddings for near-duplicate merges, kept across the conversations of
        # an ingest so a name known from an earlier one is not embedded again
        self._name_vectors: dict[str, np.ndarray] = {}
        self.keep_resolver = False
        # called before the entities are read from the store, and before the model embeds the
        # events: a batch ingest waits there for the transaction it still has in flight (the
        # read must see its entities; the model needs both cores, and sharing one with the
        # database made the embedding 20-40% slower)
        self.settle: Callable[[], None] | None = None
        self._known_entities: list[str] = []
        self._kept: EntityResolver | None = None

    def drop_resolver(self) -> None:
        """Forget the kept resolver (a write failed, or another writer may have changed the entities)."""
        self._kept = None

    def _resolver(self, speakers: tuple[str, ...]) -> tuple[EntityResolver, list[str]]:
        """A resolver that knows the namespace's entities and aliases.

        With :attr:`keep_resolver` (live adds), one resolver read from the store once is kept
        and grows with each resolution, so an add does not read every entity again; the
        writer drops it when a write fails."""
        if self.keep_resolver and self._kept is not None:
            kept = self._kept
            kept.add_existing([EntityRecord(normalise_name(s), s.strip(), "PERSON") for s in speakers
                               if normalise_name(s) and kept.canonical(normalise_name(s)) is None])
            return kept, [e.name for e in kept.entities.values() if e.label == "PERSON"]
        resolver, people = self._read_resolver(speakers)
        if self.keep_resolver:
            self._kept = resolver
        return resolver, people

    def _read_resolver(self, speakers: tuple[str, ...]) -> tuple[EntityResolver, list[str]]:
        if self.settle is not None:
            self.settle()
        params = {"namespace": self.namespace}
        resolver = EntityResolver(speakers=speakers, vectors=self._name_vectors)
        rows = self.store.read("read/entities", params)
        damaged = [r.get("key") for r in rows if not (isinstance(r.get("key"), str) and isinstance(r.get("name"), str))]
        if damaged:  # before any turn is analysed against them (Memory names the damage: graphmem check's)
            raise TypeError(f"{len(damaged)} stored entities without a text key or name: {damaged[:3]}")
        entities = [EntityRecord(r["key"], r["name"], r["label"]) for r in rows]
        aliases = [AliasRecord(r["alias_key"], r["canonical_key"], r["reason"], float(r.get("score") or 1.0))
                   for r in self.store.read("read/entity_aliases", params)]
        resolver.add_existing(entities, aliases)
        return resolver, [e.name for e in entities if e.label == "PERSON"]

    def _analyse(self, conversation_key: str, turns: list[PlannedTurn], texts: list[str], speakers: tuple[str, ...],
                 known_people: list[str], failed: dict[str, str]) -> list[list[tuple]]:
        """Each turn's event pieces ``(text, mentions, times, addressees)``.

        A turn whose analysis raises gets no pieces and an entry in ``failed``; the others
        are derived as usual (the batch is retried turn by turn to find which one failed)."""
        try:
            analyses: list[Any] = self.language.analyse(texts, speakers=speakers, known_names=known_people,
                                                        known_entities=self._known_entities, phrases=False)
        except Exception as exc:  # noqa: BLE001 - contained per turn below; each failure is logged
            reraise_stop(exc)
            analyses = []
            for turn, text in zip(turns, texts):
                try:
                    analyses.append(self.language.analyse([text], speakers=speakers, known_names=known_people,
                                                          known_entities=self._known_entities, phrases=False)[0])
                except Exception as exc:  # noqa: BLE001
                    self._contain(conversation_key, turn, "language analysis", exc, failed)
                    analyses.append(None)
        out: list[list[tuple]] = []
        known = {name.lower() for name in self._known_entities if " " not in name.strip()}
        for analysis in analyses:  # a one-word name in one turn is a name in the others too
            if analysis is None:
                continue
            try:
                known.update(m.text.strip().lower() for m in select_entities(analysis) if " " not in m.text.strip())
            except Exception as exc:  # noqa: BLE001 - the turn's own failure is contained (and logged) below
                reraise_stop(exc)
                continue
        for turn, text, analysis in zip(turns, texts, analyses):
            if analysis is None:
                out.append([])
                continue
            try:
                anchor = None if turn.when is None else to_local(turn.when, self.tz)  # "yesterday" where it was said
                units = split_events(text, analysis, anchor=anchor, max_units=EVENT_LIMITS.max_units(text))
                named = frozenset(select_entities(analysis, known))  # only these become Entity nodes
            except Exception as exc:  # noqa: BLE001
                self._contain(conversation_key, turn, "event splitting", exc, failed)
                out.append([])
                continue
            pieces = [(u.text, tuple(m for m in u.mentions if m in named), u.times, u.addressees) for u in units]
            if turn.record.caption and turn.record.caption.strip():
                pieces.append((f"shared an image: {turn.record.caption.strip()}", (), (), ()))
            out.append(pieces)
        return out

    @staticmethod
    def _contain(conversation_key: str, turn: PlannedTurn, step: str, exc: BaseException, failed: dict[str, str]) -> None:
        """Record that deriving ``turn`` failed: it is stored verbatim, with no events, and flagged.
        A stop signal that ``exc`` wraps is raised instead: a stop ends the ingest, never a turn."""
        reraise_stop(exc)
        failed[turn.id] = f"{step}: {type(exc).__name__}: {str(exc)[:200]}"
        logger.error("conversation %r, turn %s (source id %r): %s failed; the turn is stored without events "
                     "and flagged (extraction_error)", conversation_key, turn.id, turn.record.source_id,
                     step, exc_info=exc)

    def run(self, conversation_key: str, speakers: tuple[str, ...], turns: list[PlannedTurn],
            turn_vectors: dict[str, np.ndarray], progress: Callable[[int], None] | None = None) -> StageOutput:
        """Plan Event, Entity, FROM, INVOLVES and ALIAS_OF writes for ``turns``.

        One turn's failure is contained: a turn whose events or entities cannot be derived
        (an unexpected error in the language pipeline or in entity resolution) is stored
        verbatim with no events and ``extraction_error`` set; the error is logged with the
        conversation and turn id, and the other turns are derived as usual.

        With ``progress``, ``progress(done)`` counts the turns whose events are split and
        embedded, as they are: a turn whose events need no embedding of their own (one event,
        the whole turn) counts at once, the others as the embedding of the events reaches
        their last one (every :data:`~graphmem.embed.PROGRESS_BATCHES` batches). The count
        only grows, and reaches ``len(turns)`` once the conversation's entities are resolved
        too."""
        reported = 0

        def counted(done: int) -> None:
            nonlocal reported
            done = min(done, len(turns) - 1)  # the last count waits for entity resolution
            if progress is not None and done > reported:
                reported = done
                progress(done)

        advance = counted if progress is not None else None
        all_speakers = tuple(dict.fromkeys([*speakers, *(t.record.speaker for t in turns)]))
        texts = [_analysed_part(t.record.text) for t in turns]
        failed: dict[str, str] = {}
        resolver, known_people = self._resolver(all_speakers)
        self._known_entities = [e.name for e in resolver.entities.values()]
        pieces = self._analyse(conversation_key, turns, texts, all_speakers, known_people, failed)
        if self.settle is not None:
            self.settle()
        try:
            output = self._plan(conversation_key, all_speakers, turns, pieces, turn_vectors, resolver, advance)
        except Exception as exc:  # noqa: BLE001 - find the turns that make resolution fail, then plan without them
            reraise_stop(exc)
            for index, turn in enumerate(turns):
                if not pieces[index]:
                    continue
                probe, _ = self._read_resolver(all_speakers)
                try:
                    probe.resolve([m for piece in pieces[index] for m in (*piece[1], *piece[3])])
                except Exception as exc:  # noqa: BLE001
                    self._contain(conversation_key, turn, "entity resolution", exc, failed)
                    pieces[index] = []
            self.drop_resolver()
            resolver, _ = self._resolver(all_speakers)
            output = self._plan(conversation_key, all_speakers, turns, pieces, turn_vectors, resolver, advance)
        if failed:
            output.statements.append(("write/flag_extraction_errors", {"rows": [
                {"id": turn_id, "error": error} for turn_id, error in failed.items()]}))
            output.counts["extraction_errors"] = len(failed)
        if progress is not None and turns:
            progress(len(turns))  # every turn's events and entities are derived
        return output

    def _plan(self, conversation_key: str, all_speakers: tuple[str, ...], turns: list[PlannedTurn],
              turn_pieces: list[list[tuple]], turn_vectors: dict[str, np.ndarray], resolver: EntityResolver,
              advance: Callable[[int], None] | None = None) -> StageOutput:
        output = StageOutput()
        events: list[dict[str, Any]] = []
        mentions: list[Mention] = []
        owners: list[tuple[int, str]] = []  # (event row index, role) per mention
        embed_texts: list[str] = []
        embed_rows: list[int] = []
        embed_turns: list[int] = []  # the position in ``turns`` of each text to embed
        waiting = [0] * len(turns)  # per turn, its events still to embed
        finished = 0  # turns whose events are all split and embedded
        vectors: dict[int, np.ndarray] = {}
        for position, (turn, pieces) in enumerate(zip(turns, turn_pieces)):
            for index, (text, unit_mentions, times, addressees) in enumerate(pieces):
                row_index = len(events)
                first_time = times[0] if times else None
                events.append({"id": turn.event_id(self.namespace, index), "turn_id": turn.id, "props": {
                    "namespace": self.namespace, "conversation_id": conversation_key, "turn_id": turn.id,
                    "session_number": turn.session.number, "seq": turn.seq, "index": index,
                    "speaker": turn.record.speaker, "text": text, "timestamp": iso(turn.when),
                    "time_start": iso(first_time.start) if first_time else None,
                    "time_end": iso(first_time.end) if first_time else None,
                    "time_expression": first_time.expression if first_time else None,
                }})
                embedded = f"{turn.record.speaker}: {text}"
                if embedded == turn.record.indexed_text:  # the whole turn is one event: same vector
                    vectors[row_index] = turn_vectors[turn.id]
                else:
                    embed_texts.append(embedded)
                    embed_rows.append(row_index)
                    embed_turns.append(position)
                    waiting[position] += 1
                mentions.append(Mention(turn.record.speaker, "PERSON", 0, len(turn.record.speaker)))
                owners.append((row_index, "speaker"))
                for mention in unit_mentions:
                    mentions.append(mention)
                    owners.append((row_index, "mention"))
                for mention in addressees:  # "Hey Mel!": the person spoken to takes part too
                    mentions.append(mention)
                    owners.append((row_index, "addressee"))
            if advance is not None and not waiting[position]:
                finished += 1
                advance(finished)
        if embed_texts:
            order, seen = encoding_order(embed_texts), 0

            def embedded_events(done: int, _total: int) -> None:  # a turn counts with its last event
                nonlocal seen, finished
                for text_index in order[seen:done]:
                    waiting[embed_turns[text_index]] -= 1
                    if not waiting[embed_turns[text_index]]:
                        finished += 1
                seen = done
                if advance is not None:
                    advance(finished)

            encoded = self.embedder.encode(embed_texts, progress=embedded_events if advance is not None else None)
            vectors.update(zip(embed_rows, encoded))
            output.embedded["event"] = embed_texts
        for row_index, row in enumerate(events):
            row["props"]["embedding"] = vectors[row_index]

        names: list[str] = []  # entity names embedded for near-duplicate merges (they count as embedding work)

        def embed_names(texts: list[str]) -> np.ndarray:
            names.extend(texts)
            return self.embedder.encode(texts)

        result = resolver.resolve(mentions, embed_fn=embed_names)
        if names:
            output.embedded["entity"] = names
        entity_rows = {}
        for record in [*(EntityRecord(resolver.filed(normalise_name(s)), s.strip(), "PERSON") for s in all_speakers
                         if normalise_name(s)),
                       *result.entities]:
            entity_rows[record.key] = {"id": node_id(self.namespace, "entity", record.key), "props": {
                "namespace": self.namespace, "key": record.key, "name": record.name, "label": record.label}}
        involves = {}
        for (row_index, role), resolution in zip(owners, result.resolutions):
            if resolution.key is None:
                continue
            event_id = events[row_index]["id"]
            entity_id = node_id(self.namespace, "entity", resolution.key)
            involves.setdefault((event_id, entity_id, role), (resolution.mention.text, resolution.surface_key))
        aliases = [{"alias_id": node_id(self.namespace, "entity", a.alias_key),
                    "canonical_id": node_id(self.namespace, "entity", a.canonical_key),
                    "reason": a.reason, "score": float(a.score)} for a in result.aliases]

        output.statements.extend(("write/merge_events", {"rows": list(rows)}) for rows in chunked(events, self.batch_size))
        output.statements.append(("write/merge_entities", {"rows": list(entity_rows.values())}))
        output.statements.extend(("write/merge_involves", {"rows": list(rows)}) for rows in chunked(
            [{"event_id": e, "entity_id": n, "role": r, "surface": s, "surface_key": k} for (e, n, r), (s, k) in involves.items()],
            self.batch_size))
        if aliases:
            output.statements.append(("write/merge_aliases", {"rows": aliases}))
        if events:
            matrix = np.stack([vectors[i] for i in range(len(events))])
            output.add_vectors("event", [e["id"] for e in events], matrix)
            output.units["event"] = UnitBatch(
                ids=[e["id"] for e in events], vectors=matrix, sessions=[e["props"]["session_number"] for e in events],
                texts=[e["props"]["text"] for e in events], parents=[e["turn_id"] for e in events])
        output.counts.update(events=len(events), entities=len(entity_rows), aliases=len(aliases))
        return output
