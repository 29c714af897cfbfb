"""Ingestion stages after loading: episodes, events and entities, clustering.

Each stage is a small class that turns the new turns of one conversation into
named write statements (and new vectors for the ANN indexes); the pipeline runs
every statement of a conversation in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from graphmem.ids import node_id
from graphmem.records import SessionRecord, TurnRecord
from graphmem.store import Statement

__all__ = ["PlannedTurn", "StageOutput", "UnitBatch", "iso", "turn_slot"]


def iso(value) -> str | None:
    """ISO 8601 text of a datetime/date, or None."""
    return value.isoformat() if value is not None else None


@dataclass
class PlannedTurn:
    """A turn about to be written, with everything later stages need."""

    id: str
    session: SessionRecord
    session_id: str
    index: int
    record: TurnRecord
    seq: int
    version: int = 0
    """0 for a new turn; a corrected turn's new version number (its events get new ids)."""

    @property
    def when(self):
        """When it was said: its own timestamp, else its session's start."""
        return self.record.timestamp or self.session.started_at

    def event_id(self, namespace: str, index: int) -> str:
        """The id of the turn's ``index``-th event (of this version of its text)."""
        parts = (self.id, index) if self.version == 0 else (self.id, f"v{self.version}", index)
        return node_id(namespace, "event", *parts)


def turn_slot(namespace: str, conversation_key: str, seq: int) -> str:
    """``Turn.slot``: the turn's position, unique in the store (see ``schema/constraint_turn_slot``)."""
    return node_id(namespace, "slot", conversation_key, seq)


@dataclass
class UnitBatch:
    """New units of one granularity: ids, vectors, session numbers, texts and parent ids
    (event -> turn, turn -> episode, episode -> session)."""

    ids: list[str]
    vectors: np.ndarray
    sessions: list[int]
    texts: list[str]
    parents: list[str | None]

    @staticmethod
    def concat(batches: "list[UnitBatch]") -> "UnitBatch":
        """One batch holding ``batches`` in order."""
        return UnitBatch(ids=[i for b in batches for i in b.ids], vectors=np.concatenate([b.vectors for b in batches]),
                         sessions=[x for b in batches for x in b.sessions], texts=[x for b in batches for x in b.texts],
                         parents=[x for b in batches for x in b.parents])


@dataclass
class StageOutput:
    """What a stage adds to a conversation's transaction and to the indexes."""

    statements: list[Statement] = field(default_factory=list)
    vectors: dict[str, tuple[list[str], np.ndarray]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    embedded: dict[str, list[str]] = field(default_factory=dict)
    units: dict[str, UnitBatch] = field(default_factory=dict)

    def add_vectors(self, unit: str, ids: list[str], vectors: np.ndarray) -> None:
        """Record new vectors of ``unit`` for the ANN index."""
        if ids:
            self.vectors[unit] = (list(ids), np.asarray(vectors, dtype=np.float32))
