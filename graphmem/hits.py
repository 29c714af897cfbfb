"""What search returns: hits with provenance and an explanation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

__all__ = ["Hit", "UNITS"]

UNITS = ("turn", "event", "episode", "session")


@dataclass(frozen=True)
class Hit:
    """One retrieved memory.

    Attributes:
        node_id: id of the node in the graph.
        unit: ``"turn"``, ``"event"``, ``"episode"`` or ``"session"``.
        text: the memory's text.
        score: fused relevance score (higher is better; comparable within one result list).
        strategy: the strategy that produced the hit (``"dense"``, ``"lexical"``,
            ``"activation"``, ``"expansion"``, or ``"auto"`` when several were fused).
        source_id: the id the source gave the turn (LoCoMo ``dia_id``), if any.
        conversation_id: key of the conversation the hit belongs to.
        session_id: node id of its session; session_key/session_number as in the source.
        speaker: who said it (turns and events).
        timestamp: ISO 8601 time of the turn or session start, if known.
        explanation: how the hit was found: contributions per strategy, seeds, edges.
    """

    node_id: str
    unit: str
    text: str
    score: float
    strategy: str
    source_id: str | None = None
    conversation_id: str | None = None
    session_id: str | None = None
    session_key: str | None = None
    session_number: int | None = None
    speaker: str | None = None
    timestamp: str | None = None
    explanation: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return asdict(self)

    def _repr_html_(self) -> str:
        from html import escape

        where = " · ".join(
            escape(str(v)) for v in (self.source_id, f"session {self.session_number}" if self.session_number else None, self.timestamp) if v
        )
        return (
            f"<div><b>{escape(self.unit)}</b> <code>{self.score:.3f}</code> "
            f"<i>{escape(self.strategy)}</i> {where}<br>"
            f"{escape(self.speaker + ': ') if self.speaker else ''}{escape(self.text)}</div>"
        )
