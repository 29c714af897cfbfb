"""Event-level units and resolved entities: each Event is a hyperedge over its participants."""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from graphmem.embed import Embedder
from graphmem.extract.events import split_events
from graphmem.extract.nlp import LanguagePipeline, Mention
from graphmem.extract.resolve import AliasRecord, EntityRecord, EntityResolver, normalise_name
from graphmem.ids import node_id
from graphmem.runtime import freeze_loaded_objects
from graphmem.stages import PlannedTurn, StageOutput, UnitBatch, iso
from graphmem.store import GraphStore, chunked

__all__ = ["EventStage", "language_pipeline"]

logger = logging.getLogger(__name__)

MAX_ANALYSED_CHARS = 20_000
"""Events and entities are extracted from at most this much of a turn (cut at a space).
The turn itself is stored whole and embedded; a longer turn (a pasted document) would
otherwise yield thousands of events, and spaCy refuses texts over a million characters."""

_PIPELINES: dict[str | None, LanguagePipeline] = {}
_PIPELINES_LOCK = threading.Lock()


def language_pipeline(model: str | None) -> LanguagePipeline:
    """The process-wide language pipeline for ``model`` (trained when installed, else rule-based)."""
    with _PIPELINES_LOCK:
        if model not in _PIPELINES:
            _PIPELINES[model] = LanguagePipeline.load(model)
            freeze_loaded_objects(f"language pipeline {_PIPELINES[model].kind}")
        return _PIPELINES[model]


def _analysed_part(text: str) -> str:
    """``text``, or its first :data:`MAX_ANALYSED_CHARS` characters (cut at a space) when longer."""
    if len(text) <= MAX_ANALYSED_CHARS:
        return text
    cut = text.rfind(" ", 0, MAX_ANALYSED_CHARS)
    logger.warning("a turn of %d characters: events are extracted from its first %d only", len(text), MAX_ANALYSED_CHARS)
    return text[: cut if cut > 0 else MAX_ANALYSED_CHARS]


class EventStage:
    """Split new turns into Events, find and resolve their entities, plan the writes."""

    def __init__(self, store: GraphStore, embedder: Embedder, language: LanguagePipeline, namespace: str, batch_size: int) -> None:
        self.store = store
        self.embedder = embedder
        self.language = language
        self.namespace = namespace
        self.batch_size = batch_size
        # entity-name embeddings for near-duplicate merges, kept across the conversations of
        # an ingest so a name known from an earlier one is not embedded again
        self._name_vectors: dict[str, np.ndarray] = {}

    def _resolver(self, speakers: tuple[str, ...]) -> tuple[EntityResolver, list[str]]:
        params = {"namespace": self.namespace}
        resolver = EntityResolver(speakers=speakers, vectors=self._name_vectors)
        entities = [EntityRecord(r["key"], r["name"], r["label"]) for r in self.store.read("read/entities", params)]
        aliases = [AliasRecord(r["alias_key"], r["canonical_key"], r["reason"], float(r.get("score") or 1.0))
                   for r in self.store.read("read/entity_aliases", params)]
        resolver.add_existing(entities, aliases)
        return resolver, [e.name for e in entities if e.label == "PERSON"]

    def run(self, conversation_key: str, speakers: tuple[str, ...], turns: list[PlannedTurn],
            turn_vectors: dict[str, np.ndarray]) -> StageOutput:
        """Plan Event, Entity, FROM, INVOLVES and ALIAS_OF writes for ``turns``."""
        output = StageOutput()
        all_speakers = tuple(dict.fromkeys([*speakers, *(t.record.speaker for t in turns)]))
        resolver, known_people = self._resolver(all_speakers)
        texts = [_analysed_part(t.record.text) for t in turns]
        analyses = self.language.analyse(texts, speakers=all_speakers, known_names=known_people)
        events: list[dict[str, Any]] = []
        mentions: list[Mention] = []
        owners: list[tuple[int, str]] = []  # (event row index, role) per mention
        embed_texts: list[str] = []
        embed_rows: list[int] = []
        vectors: dict[int, np.ndarray] = {}
        for turn, text, analysis in zip(turns, texts, analyses):
            units = split_events(text, analysis, anchor=turn.when)
            pieces = [(u.text, u.mentions, u.times, u.addressees) for u in units]
            if turn.record.caption and turn.record.caption.strip():
                pieces.append((f"shared an image: {turn.record.caption.strip()}", (), (), ()))
            for index, (text, unit_mentions, times, addressees) in enumerate(pieces):
                row_index = len(events)
                first_time = times[0] if times else None
                events.append({"id": node_id(self.namespace, "event", turn.id, index), "turn_id": turn.id, "props": {
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
                mentions.append(Mention(turn.record.speaker, "PERSON", 0, len(turn.record.speaker)))
                owners.append((row_index, "speaker"))
                for mention in unit_mentions:
                    mentions.append(mention)
                    owners.append((row_index, "mention"))
                for mention in addressees:  # "Hey Mel!": the person spoken to takes part too
                    mentions.append(mention)
                    owners.append((row_index, "addressee"))
        if embed_texts:
            encoded = self.embedder.encode(embed_texts)
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
        for record in [*(EntityRecord(normalise_name(s), s.strip(), "PERSON") for s in all_speakers if normalise_name(s)),
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
