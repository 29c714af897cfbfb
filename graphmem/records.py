"""Plain records for loaded conversations, before they become graph nodes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from datetime import datetime, tzinfo

__all__ = ["TurnRecord", "SessionRecord", "ConversationRecord", "META_PREFIX", "MAX_SESSION_NUMBER", "meta_properties",
           "metadata_of", "stored_times", "validate_records"]

MAX_SESSION_NUMBER = 1_000_000_000
"""The largest session number a conversation may have: a turn's position is its session's number x
1,000,000 + its index, one 64-bit whole number (a LoCoMo ``session_9999999999999`` made every search
of its namespace overflow)."""

#: A source's metadata field ``k`` is stored as the node property ``meta_k``.
META_PREFIX = "meta_"


@dataclass(frozen=True)
class TurnRecord:
    """One utterance as loaded from a source.

    Attributes:
        speaker: who said it (verbatim).
        text: what was said (verbatim).
        source_id: the id the source gave it (LoCoMo ``dia_id``), if any.
        timestamp: when it was said, if the source says.
        caption: a description of an attached image (LoCoMo ``blip_caption``).
        metadata: other fields the source carried (scalar values only).
    """

    speaker: str
    text: str
    source_id: str | None = None
    timestamp: datetime | None = None
    caption: str | None = None
    metadata: tuple[tuple[str, object], ...] = ()

    @property
    def indexed_text(self) -> str:
        """The text used for embedding and keyword search: speaker, text and caption."""
        from graphmem.ingest.common import indexed_text

        return indexed_text(self.speaker, self.text, self.caption)


@dataclass(frozen=True)
class SessionRecord:
    """One sitting of a conversation."""

    key: str
    number: int
    started_at: datetime | None = None
    date_text: str | None = None
    turns: tuple[TurnRecord, ...] = ()


@dataclass(frozen=True)
class ConversationRecord:
    """A dialogue of one or more sessions, as loaded from ``source``."""

    key: str
    sessions: tuple[SessionRecord, ...]
    speakers: tuple[str, ...] = ()
    source: str = ""
    metadata: tuple[tuple[str, object], ...] = field(default=())

    @property
    def turn_count(self) -> int:
        """Number of turns over all sessions."""
        return sum(len(s.turns) for s in self.sessions)


def stored_times(record: ConversationRecord, tz: tzinfo | None) -> ConversationRecord:
    """``record`` with its times as they are stored: naive UTC, a naive time being a
    wall-clock time in ``tz`` (``None``: UTC; see :mod:`graphmem.timezones`). The record itself
    when nothing changes.

    Raises:
        InputError: a time that falls outside the years 1-9999 in UTC, naming the conversation.
    """
    from graphmem.errors import InputError
    from graphmem.timezones import to_stored

    def moved(value: datetime | None) -> datetime | None:
        if value is None or (tz is None and value.tzinfo is None):
            return value
        try:
            return to_stored(value, tz)
        except (OverflowError, ValueError):
            offset = "" if value.tzinfo is None else f" (offset {value.tzinfo}; or the offset is a day or more)"
            raise InputError(f"conversation {record.key!r}: the time {value.replace(tzinfo=None).isoformat()} is outside the "
                             f"years 1-9999 in UTC{offset}") from None

    sessions = []
    for session in record.sessions:
        turns = tuple(t if moved(t.timestamp) is t.timestamp else replace(t, timestamp=moved(t.timestamp))
                      for t in session.turns)
        started = moved(session.started_at)
        unchanged = started is session.started_at and all(a is b for a, b in zip(turns, session.turns))
        sessions.append(session if unchanged else replace(session, started_at=started, turns=turns))
    if all(a is b for a, b in zip(sessions, record.sessions)):
        return record
    return replace(record, sessions=tuple(sessions))


def meta_properties(metadata: tuple[tuple[str, object], ...]) -> dict[str, object]:
    """``metadata`` (a record's ``(key, value)`` pairs) as node properties: ``meta_<key>``."""
    return {f"{META_PREFIX}{key}": value for key, value in metadata}


def metadata_of(properties: Iterable[Sequence[Any]] | None) -> dict[str, object]:
    """The metadata a node's ``meta_*`` properties hold, keys without the prefix, sorted;
    ``properties`` is their ``[key, value]`` pairs as a read returns them (``None``: none)."""
    return {key[len(META_PREFIX):]: value for key, value in sorted(properties or (), key=lambda pair: pair[0])}


def validate_records(records: Iterable[ConversationRecord], where: str) -> None:
    """Refuse, before anything is stored, conversations graphmem could not store whole: a blank key
    (no call could name it again), two sessions with one key or one number (``session_1`` and
    ``session_01`` of a LoCoMo file: the second failed in the database after the file's earlier
    conversations were committed), a session number outside 0-:data:`MAX_SESSION_NUMBER`, or a
    session of a million turns or more, or a message id given twice in one session.

    Raises:
        InputError: naming ``where`` (the file), the conversation and the session.
    """
    from graphmem.errors import InputError
    from graphmem.ingest.common import SEQ_STRIDE

    for record in records:
        if not isinstance(record.key, str) or not record.key.strip():
            raise InputError(f"{where}: a conversation's key is blank ({record.key!r}); give it one (conversation_id)")
        keys: dict[str, int] = {}
        numbers: dict[int, str] = {}
        for session in record.sessions:
            named = f"{where}: conversation {record.key!r}, session {session.key!r}"
            if isinstance(session.number, bool) or not isinstance(session.number, int) \
                    or not 0 <= session.number <= MAX_SESSION_NUMBER:
                raise InputError(f"{named}: its number {session.number!r} is not a whole number from 0 to {MAX_SESSION_NUMBER:,}")
            if session.key in keys or session.number in numbers:
                other = session.key if session.key in keys else numbers[session.number]
                raise InputError(f"{named}: the conversation has another session with this key or number "
                                 f"({other!r}, number {session.number})")
            if len(session.turns) >= SEQ_STRIDE:
                raise InputError(f"{named}: {len(session.turns):,} messages; a session holds fewer than {SEQ_STRIDE:,}")
            ids: dict[str, int] = {}
            for position, turn in enumerate(session.turns):  # (a correction by that id then changed only one of them)
                if turn.source_id is not None and ids.setdefault(turn.source_id, position) != position:
                    raise InputError(f"{named}: message id {turn.source_id!r} is given twice (messages {ids[turn.source_id]} "
                                     f"and {position}); an id names one message")
            keys[session.key], numbers[session.number] = session.number, session.key
