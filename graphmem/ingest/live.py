"""Live writes: append, correct and remove single messages while a conversation happens.

:class:`LiveWriter` runs the stages of batch ingest incrementally, one transaction per
call of :meth:`LiveWriter.add`:

* **turns** are appended after the last turn of their session (or of the conversation),
  with the id a batch ingest of the same messages gives them, and stitched into the NEXT
  chain; a new session opens for a new session key, or when a message comes more than
  ``Settings.session_gap`` after the session's latest time (a late message does not move it back);
* **episodes** come from online segmentation: the open episode at the tail of a session
  (the episode of its last turn) is segmented again with the new turns; it grows while no
  boundary is found, and a boundary closes it and opens the next. A session's open episode
  closes when a newer session opens;
* **events and entities** are derived from the new turns as in batch ingest, with one
  entity resolver kept across calls (read from the store once);
* **topics and associations** are placed incrementally: new turns and events at once,
  episodes and sessions when they close (their embeddings stop changing then). Topic
  models are fitted once enough units wait, then new units are assigned to them; a
  granularity is refitted only after it has grown by a fraction of its size (no full refit
  per add).

A message whose id (``source_id``) is already stored in the conversation, with other
text, is a **correction**: the turn keeps its id and position, its old text becomes a
``(:TurnVersion)-[:VERSION_OF]->(:Turn)``, and its embedding, events, entity links,
associations and topics are derived again; its episode and session are recomputed. The
same text again changes nothing.

Two writers appending at one position cannot both commit: ``Turn.slot`` (namespace,
conversation, position) is unique, so the loser's transaction fails and it plans again
from what is stored (see :data:`MAX_ATTEMPTS`).
"""

from __future__ import annotations

import logging
import random
import time
import unicodedata
from contextlib import nullcontext
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone, tzinfo
from itertools import groupby
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from graphmem.changes import guard, read_version, writer_bump
from graphmem.embed import Embedder, single_threaded
from graphmem.errors import InputError, StorageError, reject_lone_surrogates
from graphmem.ids import node_id
from graphmem.index import embedding_vector, stored_vector
from graphmem.ingest.clustering import ClusteringStage
from graphmem.ingest.common import (SEQ_STRIDE, MAX_EPISODE_TEXT, chain_links, indexed_text, mean_vector,
                                    session_preview, time_span)
from graphmem.ingest.episodes import episode_id
from graphmem.ingest.events import EventStage, language_pipeline
from graphmem.ingest.segment import EpisodeSegmenter
from graphmem.ingest.types import PlannedTurn, UnitBatch, iso, turn_slot
from graphmem.loaders.chat import (framework_message, is_sdk_message, message_caption, message_metadata, message_text,
                                   metadata_pairs, reject_unknown_fields, sdk_message, speaker_fields)
from graphmem.loaders.dates import epoch_text, epoch_time, parse_datetime
from graphmem.records import SessionRecord, TurnRecord, meta_properties, metadata_of
from graphmem.retrieve.loader import AppendWrites, WriteScope, append_writes, session_scope
from graphmem.retrieve.types import metadata_code
from graphmem.settings import Settings
from graphmem.timezones import to_stored
from graphmem.store import GraphStore, Statement, chunked
from graphmem.store.base import WriteConflict

if TYPE_CHECKING:
    from graphmem.caches import NamespaceCaches

__all__ = ["AddReport", "LiveWriter", "Messages", "parse_messages", "MAX_ATTEMPTS"]

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
"""Plans of one add tried before its storage error is raised (another writer took the
position, or changed what the plan was read from)."""
MAX_CONFLICTS = 20
"""Plans a write may make again because another writer committed first (a guard's refusal), beside
those: two servers adding to one conversation over Bolt lost 1-2 adds in 40 to 5 attempts."""

SINGLE_THREAD_MESSAGES = 16
"""Adds of at most this many messages run their numeric work on one thread (see :meth:`LiveWriter.add`)."""

NEAREST_SESSIONS = 4
"""Stored sessions an add looks back through for the turn its new session follows (see
:meth:`LiveWriter._stored_before`) before it finds it by position among all the conversation's turns."""


# ---------------------------------------------------------------------------- messages
def parse_timestamp(value: object, where: str, tz: tzinfo | None = None) -> datetime | None:
    """A message or session time: ``None``, a datetime, a date, ISO 8601 or readable date text
    (as :func:`graphmem.loaders.dates.parse_datetime` reads a file's) or a Unix time
    (seconds since 1970 UTC, a number), as it is stored (naive UTC; a time without an offset
    is a wall-clock time in ``tz``, ``None``: UTC).

    Raises:
        InputError: anything else, naming ``where``.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        parsed = epoch_time(value, where)
    elif isinstance(value, str) and epoch_text(value) is not None:  # a Unix time written as text (Slack's ts)
        parsed = epoch_time(epoch_text(value), where)  # type: ignore[arg-type]
    elif isinstance(value, str) and value.strip():
        # ISO 8601, or a readable date as a JSONL file may give it ("1:56 pm on 8 May, 2023"): one
        # message is read alike whether it is added or ingested
        found = parse_datetime(value)
        if found is None:
            raise InputError(f"{where}: not a date: {value[:80]!r} (e.g. 2024-05-01T14:30:00)")
        parsed = found
    else:
        raise InputError(f"{where}: expected ISO 8601 text, a Unix time or a datetime, got {type(value).__name__}")
    try:
        return to_stored(parsed, tz)
    except (OverflowError, ValueError):
        raise InputError(f"{where}: {str(value)[:80]!r} is outside the years 1-9999 in UTC") from None


def _text_field(message: Mapping[str, Any], names: tuple[str, str], where: str, *, allow_empty: bool = False) -> str:
    present = [n for n in names if message.get(n) is not None]
    if not present:
        raise InputError(f"{where}: missing field {names[0]!r} (or {names[1]!r})")
    name = present[0]
    value = message[name]
    if not isinstance(value, str):
        raise InputError(f"{where}.{name}: expected text, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise InputError(f"{where}.{name}: empty")
    reject_lone_surrogates(value, f"{where}.{name}")
    return value


class Messages(NamedTuple):
    """What :func:`parse_messages` read: the turns to store, and how many messages had no text
    to remember (a chat API's tool call, an image)."""

    records: list[TurnRecord]
    skipped: int


def parse_messages(messages: object, tz: tzinfo | None = None) -> Messages:
    """Validate what :meth:`graphmem.Memory.add` was given and turn it into turn records.

    ``messages`` is one mapping, a :class:`TurnRecord`, or a sequence of them. A mapping has
    ``speaker`` or ``role``, ``text`` or ``content``, and optionally ``timestamp`` (ISO 8601
    or datetime), ``id`` (the caller's message id), ``caption`` and ``metadata`` (a mapping of
    scalar values). Messages as chat APIs give them are read too (see
    :mod:`graphmem.loaders.chat`): content as a list of parts, ``name``, and tool plumbing;
    a message with no text that calls a tool, or whose parts hold no text, is skipped and
    counted. Times are returned as they are stored: naive UTC, a time without an offset
    being a wall-clock time in ``tz`` (``None``: UTC).

    Raises:
        InputError: naming the message's position and field; nothing is stored.
    """
    if isinstance(messages, (Mapping, TurnRecord)) or is_sdk_message(messages):
        items: list[object] = [messages]
    elif isinstance(messages, Sequence) and not isinstance(messages, (str, bytes)):
        items = list(messages)
    else:
        raise InputError(f"messages: expected a message (a mapping) or a list of them, got {type(messages).__name__}")
    if not items:
        raise InputError("messages: no message given")
    records: list[TurnRecord] = []
    skipped = 0
    seen_ids: dict[str, int] = {}
    for position, item in enumerate(items):
        where = f"messages[{position}]"
        if is_sdk_message(item):
            item = sdk_message(item)
        if isinstance(item, TurnRecord):
            record = item
            for name, value in (("speaker", record.speaker), ("text", record.text)):
                if not isinstance(value, str):
                    raise InputError(f"{where}.{name}: expected text, got {type(value).__name__}")
                if not value.strip() and not (name == "text" and (record.caption or "").strip()):
                    raise InputError(f"{where}.{name}: empty")  # (a photo with its caption and no text is a message, as a file's)
            if record.timestamp is not None:
                record = replace(record, timestamp=parse_timestamp(record.timestamp, f"{where}.timestamp", tz))
            if record.metadata:  # (as a mapping's: a number no store keeps, NaN or 5e-324, is refused)
                metadata_pairs(dict(record.metadata), f"{where}.metadata")
        elif isinstance(item, Mapping):
            item = framework_message(item)  # a LangChain message: its type says its role
            reject_unknown_fields(item, where)
            speaker = _text_field(item, speaker_fields(item), where).strip()
            text = _message_text(item, where)
            if text is None:
                skipped += 1
                continue
            caption = message_caption(item, where)
            source_id = item.get("id")
            if source_id is not None and (isinstance(source_id, bool) or not isinstance(source_id, (str, int))
                                          or not str(source_id).strip()):
                raise InputError(f"{where}.id: expected a non-empty text or integer id, got {source_id!r}")
            metadata = message_metadata(item, where)
            reject_lone_surrogates({"caption": caption, "id": source_id, "metadata": dict(metadata)}, where)
            record = TurnRecord(speaker=speaker, text=text, source_id=None if source_id is None else str(source_id),
                                timestamp=parse_timestamp(item.get("timestamp"), f"{where}.timestamp", tz),
                                caption=caption, metadata=metadata)
        else:
            raise InputError(f"{where}: expected a mapping with speaker and text, got {type(item).__name__}")
        if record.source_id is not None:
            if record.source_id in seen_ids:
                raise InputError(f"{where}.id: message id {record.source_id!r} repeats messages[{seen_ids[record.source_id]}] "
                                 "(send a correction in its own call)")
            seen_ids[record.source_id] = position
        records.append(record)
    if skipped:
        logger.info("%d of %d messages have no text to remember (a tool call, an image): skipped", skipped, len(items))
    return Messages(records, skipped)


def corrected_record(row: Mapping[str, Any], text: Any = None, speaker: Any = None, caption: Any = None,
                     metadata: Any = None) -> TurnRecord:
    """The record :meth:`graphmem.Memory.correct` stores for the stored turn ``row`` (a row of
    ``read/live_turn_by_id``): what is given replaces what is stored, what is ``None`` stays
    (``caption=""`` removes the caption, ``metadata={}`` the metadata); the message keeps its id
    and the time it was said.

    Raises:
        InputError: naming the field (``text``, ``speaker``, ``caption``, ``metadata``).
    """
    message = {"speaker": row.get("speaker") if speaker is None else speaker,
               "text": row.get("text") if text is None else text,
               "caption": row.get("caption") if caption is None else caption,
               "metadata": metadata_of(row.get("meta")) if metadata is None else metadata}
    try:
        records, skipped = parse_messages(message)
    except InputError as exc:
        raise InputError(str(exc).replace("messages[0].", "", 1).replace("messages[0]", "correction", 1)) from None
    if skipped or not records:
        raise InputError("text: empty (forget the message to remove it)")
    return replace(records[0], source_id=row.get("source_id"), timestamp=None)


def _message_text(message: Mapping[str, Any], where: str) -> str | None:
    """The text of a message, validated; ``None`` when it has none to remember (see
    :func:`graphmem.loaders.chat.message_text`)."""
    found = message_text(message, where)
    if found is None:
        return None
    name, text = found
    if name is None:
        raise InputError(f"{where}: missing field 'text' (or 'content')")
    return _text_field({name: text}, (name, name), where)


# ---------------------------------------------------------------------------- report
@dataclass
class AddReport:
    """What one :meth:`graphmem.Memory.add` did.

    Attributes:
        conversation: the conversation key.
        turn_ids: node ids of the call's turns, in message order: new, corrected, and those of
            messages sent again unchanged (a retried call reports the ids its first try stored).
        added, corrected, unchanged: messages appended, corrections applied, and messages
            already stored with the same text.
        skipped: messages with no text to remember (a chat API's tool call, an image).
        sessions_opened: keys of the sessions this call opened.
        seconds: wall time; stage_seconds: per stage.
        attempts: plans tried (more than 1 when another writer took a position first).
    """

    conversation: str
    turn_ids: list[str] = field(default_factory=list)
    added: int = 0
    corrected: int = 0
    unchanged: int = 0
    skipped: int = 0
    sessions_opened: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    attempts: int = 0

    def add_time(self, stage: str, seconds: float) -> None:
        """Accumulate ``seconds`` under ``stage``."""
        self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + seconds

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {"conversation": self.conversation, "turn_ids": list(self.turn_ids), "added": self.added,
                "corrected": self.corrected, "unchanged": self.unchanged, "skipped": self.skipped, "sessions_opened": list(self.sessions_opened),
                "seconds": round(self.seconds, 4), "stage_seconds": {k: round(v, 4) for k, v in self.stage_seconds.items()},
                "attempts": self.attempts}


# ---------------------------------------------------------------------------- state
@dataclass
class _Session:
    """A session as an add sees it (read from the store, or opened by this add)."""

    id: str
    key: str
    number: int
    started_at: datetime | None
    date_text: str | None
    new: bool = False
    last_index: int = -1
    #: the latest time a turn of the session was said (a late message, older than the turn before
    #: it, does not move it back): the session gap counts from it
    last_time: datetime | None = None
    open_episode: str | None = None
    count: int = 0
    vector_sum: np.ndarray | None = None
    preview_pairs: list[tuple[str, str]] = field(default_factory=list)
    touched: bool = False
    last_turn_id: str | None = None
    open_block: list[dict[str, Any]] | None = None
    """The open episode's turns with their vectors (kept between adds: not read again)."""
    units: set[str] | None = None
    """Ids of the session's turns and episodes (kept between adds)."""
    chain: list[str] = field(default_factory=list)

    @property
    def record(self) -> SessionRecord:
        return SessionRecord(key=self.key, number=self.number, started_at=self.started_at, date_text=self.date_text)


def _time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return to_stored(value, None)
    if isinstance(value, str) and value:
        try:
            return to_stored(datetime.fromisoformat(value.replace("Z", "+00:00")), None)
        except ValueError:
            return None
    return None


def same_message(row: Mapping[str, Any], record: TurnRecord) -> bool:
    """Whether a stored message (``row``) says what ``record`` says: speaker, text, caption and
    metadata (a message sent again with other metadata is a correction: its version keeps the old).
    Metadata values compare as a search filter compares them (``True`` is not ``1``, ``2`` is
    ``2.0``), and a ``None`` value is no value (it is not stored)."""
    return (_composed(row.get("speaker")) == _composed(record.speaker) and _composed(row.get("text")) == _composed(record.text)
            and _composed(row.get("caption") or None) == _composed(record.caption or None) and same_metadata(row, record))


def _composed(text: str | None) -> str | None:
    """``text`` in Unicode's composed form: the same message typed on another keyboard ("Zoë" with a
    combining diaeresis, as macOS gives it) is the same message, not a correction."""
    return text if text is None or text.isascii() else unicodedata.normalize("NFC", text)


def same_metadata(row: Mapping[str, Any], record: TurnRecord) -> bool:
    """Whether a stored message (``row``, with its ``meta`` pairs) carries ``record``'s metadata
    (compared as :func:`same_message` compares them)."""
    return _metadata_codes(metadata_of(row.get("meta")).items()) == _metadata_codes(record.metadata)


def _metadata_codes(pairs: Iterable[tuple[str, object]]) -> dict[str, str]:
    return {key: metadata_code(value) for key, value in pairs if value is not None}


@dataclass
class _Plan:
    statements: list[Statement] = field(default_factory=list)
    vectors: dict[str, tuple[list[str], np.ndarray]] = field(default_factory=dict)
    replaced_vectors: dict[str, tuple[list[str], np.ndarray]] = field(default_factory=dict)
    turn_ids: list[str] = field(default_factory=list)
    sessions_opened: list[str] = field(default_factory=list)
    added: int = 0
    corrected: int = 0
    unchanged: int = 0
    #: message id -> the stored turn of each message sent again unchanged (its id is reported too)
    unchanged_ids: dict[str, str] = field(default_factory=dict)
    entities_deleted: bool = False
    old_events: list[str] = field(default_factory=list)
    #: the texts, captions and speakers the corrections replace (for the topic labels' check)
    replaced_texts: list[str] = field(default_factory=list)
    #: ``{id, speaker}`` of the corrected turns that name another speaker now (their old speaker's)
    respoken: list[dict[str, Any]] = field(default_factory=list)
    #: conversation id -> its speaker list as this write leaves it, when a correction took a speaker off it
    speakers_now: dict[str, list[str]] = field(default_factory=dict)
    #: topics of the corrected turns and of their old events, deleted at the end of the write when
    #: it left them without members (the kept topic models are then read again: they no longer match)
    replaced_topics: list[str] = field(default_factory=list)
    tails: dict[str, _Session] = field(default_factory=dict)
    stale_tails: list[str] = field(default_factory=list)
    #: a call that corrects and appends: the episodes the appends' segmentation rewrote (from the
    #: corrected texts), and the sessions whose vector the corrections computed (with the new turns)
    episodes_rewritten: set[str] = field(default_factory=set)
    corrected_sessions: dict[str, np.ndarray] = field(default_factory=dict)
    #: the sessions written to (appended, corrected, closed) when every write stays within them,
    #: and the granularities whose topics it fitted (:func:`session_scope`): what the caches
    #: re-read; ``None``: they read everything
    scope: WriteScope | None = None
    #: every write only appends (:func:`append_writes`: what they wrote to entities and topics):
    #: the caches re-read the links of the units it changed, not of every unit of its sessions,
    #: and the entities it wrote, not all; ``None``: it did more than append
    appended: AppendWrites | None = None
    #: session id -> the turns of the open episode this add segmented again, and its new turns:
    #: an append rewrites no other turn, ``PART_OF`` or event
    segmented: dict[str, set[str]] = field(default_factory=dict)

    def replace_vectors(self, unit: str, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Units of ``unit`` whose embedding this write changes (added to those already listed;
        a unit listed twice keeps the later vector)."""
        merged = dict(zip(*self.replaced_vectors[unit])) if unit in self.replaced_vectors else {}
        merged.update(zip(ids, vectors))
        self.replaced_vectors[unit] = (list(merged), np.stack(list(merged.values())))


def _corrected_entry(entry: dict[str, Any], corrected: Mapping[str, tuple[TurnRecord, np.ndarray]] | None) -> dict[str, Any]:
    """An open episode's turn as this call leaves it: with its corrected text and vector."""
    if not corrected or entry["id"] not in corrected:
        return entry
    record, vector = corrected[entry["id"]]
    return {**entry, "speaker": record.speaker, "text": record.text, "caption": record.caption, "vector": vector}


class LiveWriter:
    """Appends, corrects and removes single messages of conversations in one namespace.

    Args:
        store: the open store.
        embedder: the sentence embedder.
        settings: batch sizes, ``session_gap`` and the segmenter's knobs.
        namespace: the tenant written to.
        caches: the namespace's cache owner: its ANN indexes give association candidates,
            each transaction logs its changes with :meth:`NamespaceCaches.bump`, and each
            commit's new or changed embeddings go into its indexes at once. Without it,
            topics and associations are skipped and other processes rebuild their caches.
        save_indexes: save the ANN indexes after each commit (a batch re-ingest's
            corrections); live adds leave that to :meth:`NamespaceCaches.flush`.
    """

    def __init__(self, store: GraphStore, embedder: Embedder, settings: Settings, namespace: str,
                 caches: NamespaceCaches | None = None, save_indexes: bool = False) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.namespace = namespace
        self.caches = caches
        self.save_indexes = save_indexes
        self.segmenter = EpisodeSegmenter(settings.segmenter)
        self._events = EventStage(store, embedder, language_pipeline(settings.spacy_model), namespace, settings.write_batch_size,
                                  settings.tz)
        self._events.keep_resolver = True
        # no scikit-learn import here (1 s): most adds assign units to the kept mixtures with
        # numpy alone, and a one-message process (`graphmem add`) would pay it for nothing; the
        # add that fits topics imports it then
        self._clustering = (ClusteringStage(store, caches.index, caches.directory, namespace,
                                            batch_size=settings.write_batch_size, preload=False)
                            if caches is not None else None)
        self._vector_cache: dict[str, np.ndarray] = {}
        # session id -> the session's tail as the last commit left it; reused while the
        # store's last turn of the session is still the one this writer wrote
        self._tails: dict[str, _Session] = {}
        #: the texts, captions and speakers the last call's corrections replaced (committed): the
        #: caller checks the topic labels for words only they gave
        self.replaced_texts: list[str] = []

    # ------------------------------------------------------------------ entry points
    def use_zone(self, tz: tzinfo | None) -> None:
        """Resolve the relative times of the messages written from now on in ``tz`` (the
        namespace's zone, which :meth:`graphmem.memory.Memory.set_timezone` may change while
        this writer is kept)."""
        self._events.tz = tz

    def add(self, conversation: str, records: Sequence[TurnRecord], *, session: str | None = None,
            session_started_at: datetime | None = None) -> AddReport:
        """Append ``records`` to ``conversation`` (and apply corrections) in one transaction.

        Returns:
            An :class:`AddReport`.

        Raises:
            StorageError: the store failed :data:`MAX_ATTEMPTS` times; nothing of this call
                is stored.
        """
        return self._run(conversation, list(records), session, session_started_at, corrections=None)

    def correct(self, conversation: str, pairs: Sequence[tuple[Mapping[str, Any], TurnRecord]]) -> AddReport:
        """Replace stored turns (rows of ``read/conversation_turn_positions``) with new text:
        a batch re-ingest of a file where messages changed."""
        return self._run(conversation, [], None, None, corrections=list(pairs))

    def _run(self, conversation: str, records: list[TurnRecord], session: str | None,
             session_started_at: datetime | None, corrections: list | None) -> AddReport:
        report = AddReport(conversation=conversation)
        self.replaced_texts = []
        started = time.perf_counter()
        error: Exception | None = None
        failures = conflicts = 0
        for attempt in range(1, MAX_ATTEMPTS + MAX_CONFLICTS + 1):
            report.attempts = attempt
            report.stage_seconds = {}
            if attempt > 1 and corrections:  # the stored turns as they are now (another writer may have corrected one)
                corrections = self._read_again(corrections)
            try:
                # a few short texts through the encoder and small array work: on a busy machine two
                # threads spend more time synchronising than computing (bench add: embedding one
                # message p50 ~400 ms on two threads beside one busy core, ~17 ms on one)
                # the plan is written only if nothing was committed since its reads began (another
                # process's forget of the session it appends to, over Bolt): else planned again
                expected = read_version(self.store, self.namespace)
                if self.caches is not None and self.caches.accounted_version not in (None, expected):
                    self._forget_state()  # committed elsewhere since the caches followed: what this writer keeps may be stale
                with single_threaded() if len(records) + len(corrections or ()) <= SINGLE_THREAD_MESSAGES else nullcontext():
                    plan = self._plan(conversation, records, session, session_started_at, corrections, report)
                if plan.statements:
                    t0 = time.perf_counter()
                    changed = [i for ids, _ in (*plan.vectors.values(), *plan.replaced_vectors.values()) for i in ids]
                    changed += plan.old_events  # deleted: followers find them gone and take them out
                    self.store.write([guard(self.namespace, expected), *plan.statements,
                                      writer_bump(self.namespace, self.caches, changed, plan.scope)])
                    report.add_time("write", time.perf_counter() - t0)
            except StorageError as exc:
                error = exc
                self._forget_state()
                if isinstance(exc, WriteConflict):  # another writer committed first: a steady one may win many times
                    conflicts += 1
                    if conflicts > MAX_CONFLICTS:
                        break
                    time.sleep(random.uniform(0.005, 0.03) * min(conflicts, 8))
                else:
                    failures += 1
                    if failures >= MAX_ATTEMPTS:
                        break
                    time.sleep(0.02 * failures)
                logger.info("add to %r: attempt %d failed (%s); planning again", conversation, attempt, exc)
                continue
            except BaseException:
                self._forget_state()
                raise
            try:
                if self._clustering is not None:
                    self._clustering.commit_live()
                    if plan.replaced_topics:  # one may be gone: read the models again at the next add
                        self._clustering.drop_live()
                self._tails.update(plan.tails)
                for session_id in plan.stale_tails:
                    self._tails.pop(session_id, None)
                if plan.entities_deleted:
                    self._events.drop_resolver()
                self.replaced_texts = plan.replaced_texts
                report.turn_ids, report.added, report.corrected = plan.turn_ids, plan.added, plan.corrected
                report.unchanged, report.sessions_opened = plan.unchanged, plan.sessions_opened
                if self.caches is not None and plan.statements:
                    t0 = time.perf_counter()
                    self.caches.committed({**plan.vectors, **{f"replace:{u}": v for u, v in plan.replaced_vectors.items()}},
                                          save=self.save_indexes, scope=plan.scope, removed=plan.old_events,
                                          appended=plan.appended)
                    report.add_time("index", time.perf_counter() - t0)
            except BaseException:  # committed, but what this writer keeps may not say so (Ctrl-C here):
                self._forget_state()  # read again; the caches catch up with the commit at their next follow
                raise
            report.seconds = time.perf_counter() - started
            logger.debug("add to %r: %s", conversation, report.to_dict())
            return report
        assert error is not None
        if isinstance(error, WriteConflict):
            raise WriteConflict(f"add to {conversation!r}: other writers committed first {conflicts} times in a row; "
                                "nothing of this call was stored: send it again") from error
        raise error

    def _read_again(self, corrections: list) -> list:
        """``corrections`` with each stored turn read again (its version, text and place now).

        Raises:
            InputError: a turn was forgotten meanwhile.
        """
        fresh = []
        for row, record in corrections:
            rows = self.store.read("read/live_turn_by_id", {"namespace": self.namespace, "id": row["id"]})
            if not rows:
                raise InputError(f"turn_id: no turn {row['id']!r} in namespace {self.namespace!r} (forgotten while it was corrected)")
            fresh.append(({**row, **rows[0]}, record))
        return fresh

    def _forget_state(self) -> None:
        """A write failed or may have raced another writer: what was kept from the store is dropped."""
        self._events.drop_resolver()
        self._tails.clear()
        if self._clustering is not None:
            self._clustering.drop_live()

    # ------------------------------------------------------------------ planning
    def _read_sessions(self, conversation_node: str) -> tuple[list[str] | None, dict[str, _Session]]:
        rows = self.store.read("read/live_conversation", {"namespace": self.namespace, "conversation_node": conversation_node})
        if not rows:
            return None, {}
        speakers = list(rows[0].get("speakers") or [])
        sessions: dict[str, _Session] = {}
        for row in rows:
            if row.get("id") is None:
                continue
            state = _Session(id=row["id"], key=row["key"], number=int(row["number"]), started_at=_time(row.get("started_at")),
                             date_text=row.get("date_text"))
            sessions[state.key] = state
        return speakers, sessions

    def _load_tail(self, state: _Session) -> None:
        """Where the session ends (its last turn and that turn's episode) and its running mean.

        One small read finds the last turn; when it is the turn this writer's last commit to
        the session wrote, the running sum, the open episode's turns and the session's unit
        ids kept from that commit are reused, so an add does not read them again."""
        ns = self.namespace
        rows = self.store.read("read/live_session_last_turn", {"namespace": ns, "session_id": state.id})
        if rows:
            row = rows[0]
            state.last_index = int(row["index"])
            state.last_time = _time(row.get("latest")) or _time(row.get("time"))
            state.open_episode = row.get("episode")
            state.last_turn_id = row["id"]
        kept = self._tails.get(state.id)
        if kept is not None and kept.last_turn_id is not None and kept.last_turn_id == state.last_turn_id \
                and kept.open_episode == state.open_episode:
            state.count, state.vector_sum, state.preview_pairs = kept.count, kept.vector_sum, list(kept.preview_pairs)
            state.open_block = list(kept.open_block) if kept.open_block is not None else None
            state.units = set(kept.units) if kept.units is not None else None
            return
        stored = self.store.read("read/live_session_state", {"namespace": ns, "session_id": state.id})
        info = stored[0] if stored else {}
        count, scale, embedding = info.get("turn_count"), info.get("embedding_scale"), info.get("embedding")
        mean = embedding_vector(embedding, self.embedder.dimension)  # None when missing or malformed
        if count is not None and scale is not None and mean is not None and int(count) >= 3:
            state.count = int(count)
            state.vector_sum = mean * float(scale) * state.count
            state.preview_pairs = [("", "")] * 3  # the preview (first three turns) no longer changes
        else:  # a short session, or one whose stored mean is damaged: summed again from its turns
            turns = self.store.read("read/live_session_turns", {"namespace": ns, "session_id": state.id})
            vectors = [stored_vector(r.get("embedding"), r["id"], self.embedder.dimension) for r in turns]
            state.count = len(turns)
            state.vector_sum = np.sum(vectors, axis=0) if vectors else None
            state.preview_pairs = [(r["speaker"], r["text"]) for r in turns[:3]]

    def _new_session(self, sessions: dict[str, _Session], conversation: str, key: str | None,
                     started_at: datetime | None) -> _Session:
        number = max((s.number for s in sessions.values()), default=0) + 1
        if key is None:
            key = str(number)
            suffix = 1
            while key in sessions:
                suffix += 1
                key = f"{number}-{suffix}"
        state = _Session(id=node_id(self.namespace, "session", conversation, key), key=key, number=number,
                         started_at=started_at, date_text=iso(started_at), new=True)
        sessions[key] = state
        return state

    def _plan(self, conversation: str, records: list[TurnRecord], session_key: str | None,
              session_started_at: datetime | None, corrections: list | None, report: AddReport) -> _Plan:
        ns = self.namespace
        plan = _Plan()
        conv_node = node_id(ns, "conversation", conversation)
        t0 = time.perf_counter()
        speakers, sessions = self._read_sessions(conv_node)
        conversation_is_new = speakers is None
        if conversation_is_new and self.store.read("read/conversation_stored_turn", {"namespace": ns, "conversation_id": conversation}):
            raise StorageError(f"conversation {conversation!r}: its turns are stored but its Conversation node is missing "
                               "(damage: graphmem check names it); nothing was written")
        speakers = list(speakers or [])

        # corrections: a known message id with other text
        appends: list[TurnRecord] = []
        fixes: list[tuple[Mapping[str, Any], TurnRecord]] = list(corrections or [])
        ids = [r.source_id for r in records if r.source_id is not None]
        stored: dict[str, Mapping[str, Any]] = {}
        if ids and not conversation_is_new:
            for row in self.store.read("read/live_turns_by_source", {"namespace": ns, "conversation_id": conversation,
                                                                       "source_ids": ids}):
                if row["source_id"] not in stored or row.get("session_key") == session_key:
                    stored[row["source_id"]] = row
        for record in records:
            row = stored.get(record.source_id) if record.source_id is not None else None
            if row is None:
                appends.append(record)
            elif same_message(row, record):
                plan.unchanged += 1
                plan.unchanged_ids[str(record.source_id)] = row["id"]
            else:
                fixes.append((row, record))

        # appends: sessions, positions, ids. A message that does not say when it was said was said
        # now, as it is added; filling in a dated session (session_started_at given), at the start
        # of the session it goes to, as a batch ingest of the same messages stores it (below)
        if session_started_at is None and any(r.timestamp is None for r in appends):
            now = datetime.now(timezone.utc).replace(tzinfo=None)
            stamped = {id(r): replace(r, timestamp=now) for r in appends if r.timestamp is None}
            appends = [stamped.get(id(r), r) for r in appends]
            records = [stamped.get(id(r), r) for r in records]  # the report's ids follow the records by identity
        dated: dict[int, TurnRecord] = {}  # id of an undated record of a dated call -> it at its session's start
        planned: list[PlannedTurn] = []
        latest = max(sessions.values(), key=lambda s: s.number, default=None)
        closing: list[_Session] = []  # sessions a newer session closes
        before_known: dict[str, str] = {}
        gap = self.settings.session_gap
        late = None if session_key is not None else self._late_session(sessions, latest, appends, session_started_at)
        for record in appends:
            if session_key is not None:
                state = sessions.get(session_key)
                if state is None:
                    if latest is not None and latest not in closing:
                        closing.append(latest)
                    state = self._new_session(sessions, conversation, session_key, session_started_at or record.timestamp)
                    plan.sessions_opened.append(state.key)
                    latest = state
            else:
                state = late or latest
                if state is not None and not state.new and not state.touched:
                    self._load_tail(state)
                    state.touched = True
                # an undated message of a call that says when its session started was said then
                when = record.timestamp or session_started_at
                if state is None or (late is None and gap is not None and when is not None and state.last_time is not None
                                     and when - state.last_time > gap):
                    if state is not None and state not in closing:
                        closing.append(state)
                    state = self._new_session(sessions, conversation, None, when)
                    plan.sessions_opened.append(state.key)
                    latest = state
            if not state.new and not state.touched:
                self._load_tail(state)
            state.touched = True
            if record.timestamp is None:
                undated, record = record, replace(record, timestamp=state.started_at or session_started_at)
                dated[id(undated)] = record
            if state.id not in before_known and not state.new and state.last_turn_id is not None:
                before_known[state.id] = state.last_turn_id  # the stored turn the new ones follow
            index = state.last_index + 1
            tid = node_id(ns, "turn", conversation, state.key, index, record.speaker, record.text, record.caption)
            turn = PlannedTurn(tid, state.record, state.id, index, record, state.number * SEQ_STRIDE + index)
            planned.append(turn)
            state.last_index = index
            said = record.timestamp or state.started_at
            state.last_time = max(state.last_time, said) if state.last_time is not None and said is not None \
                else (said or state.last_time)
            if record.speaker not in speakers:
                speakers.append(record.speaker)
        if dated:
            records = [dated.get(id(r), r) for r in records]
        for _row, record in fixes:  # a correction may name a new speaker: the conversation lists them too,
            if record.speaker not in speakers:  # as it lists every speaker an append brought
                speakers.append(record.speaker)
        plan.respoken = [{"id": row["id"], "speaker": row["speaker"]} for row, record in fixes
                         if isinstance(row.get("speaker"), str) and row["speaker"] != record.speaker]
        from graphmem.forget import says_nothing_else  # (forget imports the ingest package)

        for name in sorted({r["speaker"] for r in plan.respoken} - {t.record.speaker for t in planned}
                           - {record.speaker for _row, record in fixes}):
            respoken = {r["id"] for r in plan.respoken if r["speaker"] == name}
            if name in speakers and says_nothing_else(self.store, ns, conversation, name, respoken):  # no longer listed
                speakers.remove(name)
                plan.speakers_now[conv_node] = speakers
        report.add_time("plan", time.perf_counter() - t0)

        # one embedding call for every new text
        fixed = [self._fixed_turn(row, record, sessions) for row, record in fixes]
        plan.replaced_texts = [text for row, record in fixes for text in (row.get("text"), row.get("caption"), row.get("speaker"))
                               if isinstance(text, str) and text]
        replaced_meta = {t.id: dict(row.get("meta") or ()) for t, (row, _) in zip(fixed, fixes)}
        t0 = time.perf_counter()
        texts = [t.record.indexed_text for t in (*planned, *fixed)]
        vectors = self._encode(texts)
        report.add_time("embed", time.perf_counter() - t0)
        turn_vectors = {t.id: v for t, v in zip((*planned, *fixed), vectors)}
        if not planned and not fixed:
            plan.turn_ids = self._ordered_ids(records, [], [], None, plan.unchanged_ids)
            return plan
        # what the appends' episodes and closed sessions read of a corrected turn is its new text
        corrected = {t.id: (t.record, turn_vectors[t.id]) for t in fixed}

        s = plan.statements
        s.append(("write/merge_conversations", {"rows": [{"id": conv_node, "props": {
            "namespace": ns, "key": conversation, "speakers": speakers, "source": "add"}}]}))
        if not conversation_is_new:
            s.append(("write/update_conversation_speakers", {"namespace": ns, "rows": [{"id": conv_node, "speakers": speakers}]}))
        touched = [st for st in sessions.values() if st.touched]
        s.append(("write/merge_sessions", {"rows": [{
            "id": st.id, "conversation_id": conv_node,
            "props": {"namespace": ns, "conversation_id": conversation, "key": st.key, "number": st.number,
                      "started_at": iso(st.started_at), "date_text": st.date_text},
        } for st in touched if st.new]}))

        units: dict[str, UnitBatch] = {}
        closed: dict[str, list[tuple[str, np.ndarray, int, str, str | None]]] = {"episode": [], "session": []}
        if planned:
            t0 = time.perf_counter()
            s.extend(("write/merge_turns", {"rows": list(rows)}) for rows in chunked([self._turn_row(conversation, t, turn_vectors[t.id])
                                                                                     for t in planned], self.settings.write_batch_size))
            # nothing is stored after the new turns when they end the conversation's last session
            at_tail = planned[-1].session.number == max(st.number for st in sessions.values())
            s.extend(self._next_turn_links(conversation, planned, before_known.get(planned[0].session_id), at_tail, sessions))
            self._plan_episodes(conversation, planned, sessions, turn_vectors, plan, closed, at_tail, corrected)
            report.add_time("segment", time.perf_counter() - t0)
            plan.added = len(planned)
        if fixed:
            t0 = time.perf_counter()
            self._plan_corrections(conversation, fixed, turn_vectors, plan, planned, replaced_meta)
            report.add_time("correct", time.perf_counter() - t0)
            plan.corrected = len(fixed)

        # sessions: running mean, count, preview
        session_rows = []
        for state in touched:
            new_vectors = [turn_vectors[t.id] for t in planned if t.session_id == state.id]
            if not new_vectors or state.id in plan.corrected_sessions:  # written whole by the corrections
                continue
            total = np.sum(new_vectors, axis=0) + (state.vector_sum if state.vector_sum is not None else 0.0)
            preview_changes = state.new or state.count < 3
            state.count += len(new_vectors)
            state.vector_sum = total
            mean = total / state.count
            scale = float(np.linalg.norm(mean)) or 1.0
            state.preview_pairs = (state.preview_pairs + [(t.record.speaker, t.record.text) for t in planned
                                                          if t.session_id == state.id])[:3]
            props: dict[str, Any] = {"embedding": (mean / scale).astype(np.float32), "embedding_scale": scale,
                                     "turn_count": state.count}
            if preview_changes:
                props["preview"] = session_preview(state.preview_pairs)
            session_rows.append({"id": state.id, "props": props})
        for state in closing:  # after the running means took this add's turns
            self._close_session(conversation, state, closed, corrected, plan.corrected_sessions)
        if session_rows:
            s.append(("write/update_sessions", {"namespace": ns, "rows": session_rows}))
            plan.replace_vectors("session", [r["id"] for r in session_rows], np.stack([r["props"]["embedding"] for r in session_rows]))

        # events and entities of new and corrected turns
        derived = [*planned, *fixed]
        t0 = time.perf_counter()
        events = self._events.run(conversation, tuple(speakers), derived, turn_vectors)
        report.add_time("extract", time.perf_counter() - t0)
        s.extend(events.statements)
        if fixed:
            s.extend(self._orphans_after_correction(plan))
        for unit, (ids_, vecs) in events.vectors.items():
            plan.vectors[unit] = (ids_, vecs)
        turn_batch = UnitBatch(ids=[t.id for t in derived], vectors=np.stack([turn_vectors[t.id] for t in derived]),
                               sessions=[t.session.number for t in derived], texts=[t.record.text for t in derived],
                               parents=[None] * len(derived))
        plan.vectors["turn"] = ([t.id for t in planned], np.stack([turn_vectors[t.id] for t in planned])) if planned else (
            [], np.zeros((0, vectors.shape[1]), np.float32))
        if fixed:
            plan.replace_vectors("turn", [t.id for t in fixed], np.stack([turn_vectors[t.id] for t in fixed]))
        units["turn"] = turn_batch
        if "event" in events.units:
            units["event"] = events.units["event"]
        for unit in ("episode", "session"):
            if closed[unit]:
                units[unit] = UnitBatch(ids=[c[0] for c in closed[unit]], vectors=np.stack([c[1] for c in closed[unit]]),
                                        sessions=[c[2] for c in closed[unit]], texts=[c[3] for c in closed[unit]],
                                        parents=[c[4] for c in closed[unit]])

        # associations across sessions, and topics
        if self._clustering is not None:
            t0 = time.perf_counter()
            exclude = self._same_session_units(touched, fixed)
            assoc = self._clustering.associate({u: units[u] for u in ("turn", "episode", "session") if u in units},
                                               exclude=frozenset(exclude))
            s.extend(assoc.statements)
            placed = self._clustering.place_live(units, speakers=tuple(speakers))
            s.extend(placed.statements)
            report.add_time("cluster", time.perf_counter() - t0)
        # a topic whose only members were the replaced events, or the corrected turns (placed again,
        # maybe elsewhere), goes: last, after the new units' memberships (the statement keeps any
        # topic that still has one)
        replaced: dict[str, int] = {}  # topic -> how many of its members this write replaces
        for query, unit_ids in (("forget/topics_of_events", plan.old_events), ("forget/topics_of_turns", [t.id for t in fixed])):
            for r in self.store.read(query, {"namespace": ns, "ids": unit_ids}) if unit_ids else ():
                replaced[r["id"]] = replaced.get(r["id"], 0) + int(r["members"])
        if replaced:  # only a topic all of whose members are replaced can be left empty
            sizes = {r["id"]: int(r["members"]) for r in self.store.read("forget/topic_sizes", {"namespace": ns, "ids": sorted(replaced)})}
            plan.replaced_topics = sorted(t for t, count in replaced.items() if count >= sizes.get(t, 0))
        if plan.replaced_topics:
            s.append(("forget/delete_topics", {"namespace": ns, "ids": plan.replaced_topics}))
        plan.turn_ids = self._ordered_ids(records, planned, fixed, corrections, plan.unchanged_ids)
        written = {st.id for st in (*touched, *closing)} | {t.session_id for t in fixed}
        # the topic-placement ledger: units of these sessions may wait for a topic (a granularity
        # not fitted yet, the open episode and session), so a batch ingest's placing looks there
        s.append(("write/mark_sessions_placing", {"namespace": ns, "rows": [{"id": node} for node in sorted(written)]}))
        plan.scope = session_scope(plan.statements, written)
        appended = append_writes(plan.statements)
        if appended is not None and plan.scope is not None:
            # every session written: the turns it segmented (None: read the session whole)
            plan.appended = replace(appended, turns={sid: frozenset(plan.segmented[sid]) if sid in plan.segmented else None
                                                     for sid in plan.scope.sessions})
        corrected_sessions = {t.session_id for t in fixed}
        for state in touched:
            if state.id in corrected_sessions or state.last_turn_id is None:
                continue
            if state.units is not None:
                state.units.update(t.id for t in planned if t.session_id == state.id)
                state.units.update(state.chain)
            plan.tails[state.id] = state
        plan.stale_tails = sorted(corrected_sessions)
        return plan

    @staticmethod
    def _late_session(sessions: Mapping[str, _Session], latest: _Session | None, appends: list[TurnRecord],
                      session_started_at: datetime | None) -> _Session | None:
        """The earlier session a call's messages came late to: every one was said before the latest
        session started, in the sitting of one earlier session (the latest one started by then). They
        go to its tail, not to the latest session (None: they go there, as messages in order do)."""
        if latest is None or latest.started_at is None or not appends:
            return None
        found: set[str] = set()
        for record in appends:
            when = record.timestamp or session_started_at
            if when is None or when >= latest.started_at:
                return None
            # the sitting that started last by then: by its start, not its number (a session added
            # later under its own key may have started before an earlier-numbered one)
            earlier = max((st for st in sessions.values() if not st.new and st.started_at is not None and st.started_at <= when),
                          key=lambda st: (st.started_at, st.number), default=None)
            if earlier is None:
                return None
            found.add(earlier.key)
        return sessions[found.pop()] if len(found) == 1 else None

    @staticmethod
    def _ordered_ids(records: list[TurnRecord], planned: list[PlannedTurn], fixed: list[PlannedTurn],
                     corrections: list | None, unchanged: Mapping[str, str]) -> list[str]:
        by_record = {id(t.record): t.id for t in planned}
        by_source = {**unchanged, **{t.record.source_id: t.id for t in fixed if t.record.source_id is not None}}
        out: list[str] = []
        for record in records:
            if id(record) in by_record:
                out.append(by_record[id(record)])
            elif record.source_id in by_source:
                out.append(by_source[record.source_id])
        if corrections:
            out.extend(t.id for t in fixed)
        return out

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts``; a retried plan reuses the vectors of its first attempt."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._vector_cache]
        if missing:
            for text, vector in zip(missing, self.embedder.encode(missing)):
                self._vector_cache[text] = np.asarray(vector, dtype=np.float32)
        vectors = np.stack([self._vector_cache[t] for t in texts]) if texts else np.zeros((0, self.embedder.dimension), np.float32)
        if len(self._vector_cache) > 256:
            self._vector_cache.clear()
        return vectors

    def _turn_row(self, conversation: str, turn: PlannedTurn, vector: np.ndarray) -> dict[str, Any]:
        record = turn.record
        return {"id": turn.id, "session_id": turn.session_id, "props": {
            "namespace": self.namespace, "conversation_id": conversation, "session_key": turn.session.key,
            "session_number": turn.session.number, "index": turn.index, "seq": turn.seq,
            "slot": turn_slot(self.namespace, conversation, turn.seq),
            "speaker": record.speaker, "text": record.text, "caption": record.caption, "source_id": record.source_id,
            "timestamp": iso(record.timestamp), "embedding": vector,
            **meta_properties(record.metadata)}}

    def _stored_before(self, conversation: str, sessions: Mapping[str, _Session], seq: int, read: str) -> list[dict[str, Any]]:
        """What ``read`` (``read/previous_turn`` or ``read/previous_episode``) gives for position
        ``seq``: the stored turn just before it, or that turn's episode (the stored episode that
        starts last before it).

        Found through the stored sessions up to ``seq``'s, nearest first: a session's last turn is
        one small read (``read/live_session_last_turn``, with its episode). Those two queries
        filter every turn or episode of the conversation by position, which the database does
        by loading each one: 1.4 s and 0.2 s of the first message of a new session in a
        conversation of 100,000 turns. They still answer where the :data:`NEAREST_SESSIONS`
        nearest sessions hold no turn before ``seq``."""
        number = seq // SEQ_STRIDE
        earlier = sorted((state for state in sessions.values() if not state.new and state.number <= number),
                         key=lambda state: state.number, reverse=True)
        for state in earlier[:NEAREST_SESSIONS]:
            rows = self.store.read("read/live_session_last_turn", {"namespace": self.namespace, "session_id": state.id})
            if not rows:
                continue  # a session without turns (check names it): the one before it
            row = rows[0]
            if row.get("seq") is None or int(row["seq"]) >= seq:
                break
            if read == "read/previous_turn":
                return [{"id": row["id"], "seq": int(row["seq"])}]
            if row.get("episode") is not None:
                return [{"id": row["episode"], "seq": int(row["seq"])}]  # (a position inside that episode)
            break
        return self.store.read(read, {"namespace": self.namespace, "conversation_id": conversation, "seq": seq})

    def _next_turn_links(self, conversation: str, turns: list[PlannedTurn], previous: str | None,
                         at_tail: bool, sessions: Mapping[str, _Session]) -> list[Statement]:
        """NEXT along the new turns, from the stored turn before them (``previous`` when the
        session's last turn is known) and to the one after (a message added to an earlier
        session sits between two stored turns; none ``at_tail``)."""
        ordered = sorted(turns, key=lambda t: t.seq)
        links = chain_links([t.id for t in ordered])
        params = {"namespace": self.namespace, "conversation_id": conversation}
        before = ([{"id": previous}] if previous is not None
                  else self._stored_before(conversation, sessions, ordered[0].seq, "read/previous_turn"))
        after = [] if at_tail else self.store.read("read/next_turn", {**params, "seq": ordered[-1].seq})
        statements: list[Statement] = []
        if before and after:
            statements.append(("write/unlink_next_turns", {"namespace": self.namespace,
                                                           "rows": [{"src": before[0]["id"], "dst": after[0]["id"]}]}))
        if before:
            links.insert(0, {"src": before[0]["id"], "dst": ordered[0].id})
        if after:
            links.append({"src": ordered[-1].id, "dst": after[0]["id"]})
        statements.append(("write/merge_next_turns", {"rows": links}))
        return statements

    # ------------------------------------------------------------------ episodes
    def _plan_episodes(self, conversation: str, planned: list[PlannedTurn], sessions: dict[str, _Session],
                       turn_vectors: dict[str, np.ndarray], plan: _Plan,
                       closed: dict[str, list[tuple[str, np.ndarray, int, str, str | None]]], at_tail: bool = False,
                       corrected: Mapping[str, tuple[TurnRecord, np.ndarray]] | None = None) -> None:
        """Segment each touched session's open episode together with its new turns (a stored
        turn this call corrects counts with its new text and vector: ``corrected``)."""
        ns = self.namespace
        by_id = {st.id: st for st in sessions.values()}
        new_episodes: list[dict[str, Any]] = []
        updated: list[dict[str, Any]] = []
        part_of: list[dict[str, str]] = []
        moved: list[dict[str, str]] = []
        next_statements: list[Statement] = []
        episode_vectors: list[tuple[str, np.ndarray]] = []
        chained: list[str] = []  # the episodes of the sessions this call wrote before, in order
        chained_seq = -1  # the position their last one ends at
        for session_id, group in groupby(sorted(planned, key=lambda t: t.seq), key=lambda t: t.session_id):
            state = by_id[session_id]
            new_turns = list(group)
            if state.open_block is not None:
                block = [{**b, "stored": True} for b in state.open_block]
            else:
                members = (self.store.read("read/live_episode_turns", {"namespace": ns, "id": state.open_episode})
                           if state.open_episode is not None else [])
                block = [{"id": r["id"], "seq": int(r["seq"]), "index": int(r["index"]), "speaker": r["speaker"],
                          "text": r["text"], "caption": r.get("caption"), "vector": stored_vector(r["embedding"], r["id"], self.embedder.dimension),
                          "timestamp": _time(r.get("timestamp")), "time": _time(r.get("time")), "stored": True}
                         for r in members]
            block = [_corrected_entry(b, corrected) for b in block]
            block += [{"id": t.id, "seq": t.seq, "index": t.index, "speaker": t.record.speaker, "text": t.record.text,
                       "caption": t.record.caption, "vector": turn_vectors[t.id], "timestamp": t.record.timestamp,
                       "time": t.when, "stored": False} for t in new_turns]
            matrix = np.stack([b["vector"] for b in block])
            times = [b["timestamp"] for b in block]
            starts = self.segmenter.boundaries(matrix, times=times if all(times) else None)
            segments = list(zip(starts, [*starts[1:], len(block)]))
            chain: list[str] = []
            for number, (start, end) in enumerate(segments):
                seg = block[start:end]
                first, last = seg[0], seg[-1]
                eid = episode_id(ns, conversation, state.key, first["index"])
                keeps_open = number == 0 and state.open_episode is not None and first["stored"]
                mean = mean_vector(matrix[start:end])
                text = "\n".join(indexed_text(b["speaker"], b["text"], b["caption"]) for b in seg)[:MAX_EPISODE_TEXT]
                started_at, ended_at = time_span(b["time"] for b in seg)
                props = {"start_seq": first["seq"], "end_seq": last["seq"], "turn_count": len(seg), "text": text,
                         "started_at": started_at, "ended_at": ended_at, "embedding": mean}
                if keeps_open:
                    eid = state.open_episode  # type: ignore[assignment]
                    updated.append({"id": eid, "props": props})
                else:
                    new_episodes.append({"id": eid, "props": {"namespace": ns, "conversation_id": conversation,
                                                              "session_key": state.key, "session_number": state.number, **props}})
                for b in seg:
                    if b["stored"] and eid != state.open_episode:
                        moved.append({"turn_id": b["id"], "episode_id": state.open_episode})  # type: ignore[dict-item]
                    if not b["stored"] or eid != state.open_episode:
                        part_of.append({"turn_id": b["id"], "episode_id": eid})
                episode_vectors.append((eid, mean))
                if number < len(segments) - 1:  # a boundary after it: closed
                    closed["episode"].append((eid, mean, state.number, text, state.id))
                chain.append(eid)
            plan.segmented.setdefault(session_id, set()).update(b["id"] for b in block)
            state.open_episode = chain[-1]
            state.open_block = block[segments[-1][0]:]
            state.last_turn_id = new_turns[-1].id
            state.chain = chain
            next_statements.extend(self._next_episode_links(conversation, chain, block[0]["seq"], block[-1]["seq"],
                                                            starts_open=block[0]["stored"], sessions=sessions,
                                                            at_tail=at_tail and state.number == planned[-1].session.number,
                                                            chained=chained, chained_seq=chained_seq))
            chained.extend(chain)
            chained_seq = block[-1]["seq"]
        s = plan.statements
        if new_episodes:
            s.append(("write/merge_episodes", {"rows": new_episodes}))
        if updated:
            s.append(("write/update_episodes", {"namespace": ns, "rows": updated}))
        if moved:
            s.append(("write/delete_part_of", {"namespace": ns, "rows": moved}))
        s.extend(("write/merge_part_of", {"rows": list(rows)}) for rows in chunked(part_of, self.settings.write_batch_size))
        s.extend(next_statements)
        if episode_vectors:
            fresh = {e["id"] for e in new_episodes}
            new = [(e, v) for e, v in episode_vectors if e in fresh]
            changed = [(e, v) for e, v in episode_vectors if e not in fresh]
            if new:
                plan.vectors["episode"] = ([e for e, _ in new], np.stack([v for _, v in new]))
            if changed:
                plan.replace_vectors("episode", [e for e, _ in changed], np.stack([v for _, v in changed]))
            plan.episodes_rewritten.update(e for e, _ in episode_vectors)

    def _next_episode_links(self, conversation: str, chain: list[str], first_seq: int, last_seq: int,
                            starts_open: bool, sessions: Mapping[str, _Session], at_tail: bool = False,
                            chained: Sequence[str] = (), chained_seq: int = -1) -> list[Statement]:
        """NEXT along ``chain`` (the open episode, then the new ones), stitched to stored episodes.

        ``chained`` are the episodes of the sessions before this one that the same call wrote, in
        order, the last of them ending at position ``chained_seq``: it comes just before ``chain``
        when no stored episode lies between (the store holds none before ``chain``, the one it holds
        is an earlier session's episode they replace, or it lies before them: one call opening three
        sessions linked the stored episode to each of them)."""
        params = {"namespace": self.namespace, "conversation_id": conversation}
        links = chain_links(chain)
        statements: list[Statement] = []
        if len(chain) == 1 and starts_open:
            return statements
        after = [] if at_tail else self.store.read("read/next_episode", {**params, "seq": last_seq})
        after_id = after[0]["id"] if after and after[0]["id"] not in chain else None
        if starts_open:
            before_id: str | None = chain[0]
        else:
            before = self._stored_before(conversation, sessions, first_seq, "read/previous_episode")
            before_id = before[0]["id"] if before and before[0]["id"] not in chain else None
            if chained and (before_id is None or before_id in chained or int(before[0]["seq"]) < chained_seq):
                before_id = chained[-1]
            if before_id is not None:
                links.insert(0, {"src": before_id, "dst": chain[0]})
        if after_id is not None:
            if before_id is not None:
                statements.append(("write/unlink_next_episodes", {"namespace": self.namespace,
                                                                  "rows": [{"src": before_id, "dst": after_id}]}))
            links.append({"src": chain[-1], "dst": after_id})
        if links:
            statements.append(("write/merge_next_episodes", {"rows": links}))
        return statements

    def _close_session(self, conversation: str, state: _Session,
                       closed: dict[str, list[tuple[str, np.ndarray, int, str, str | None]]],
                       corrected: Mapping[str, tuple[TurnRecord, np.ndarray]] | None = None,
                       corrected_sessions: Mapping[str, np.ndarray] | None = None) -> None:
        """A newer session opened after ``state``: its open episode and the session itself are final
        (read with this call's corrections: ``corrected`` turns, ``corrected_sessions`` vectors)."""
        if not state.touched and not state.new:
            self._load_tail(state)
        if state.open_episode is not None and all(c[0] != state.open_episode for c in closed["episode"]):
            if state.open_block is not None:  # written or kept by this writer
                block = state.open_block
            else:
                block = [{"id": r["id"], "vector": stored_vector(r["embedding"], r["id"], self.embedder.dimension), "speaker": r["speaker"],
                          "text": r["text"], "caption": r.get("caption")}
                         for r in self.store.read("read/live_episode_turns", {"namespace": self.namespace, "id": state.open_episode})]
            members = [{"embedding": b["vector"], "speaker": b["speaker"], "text": b["text"], "caption": b["caption"]}
                       for b in (_corrected_entry(b, corrected) for b in block)]
            if members:
                vectors = [np.asarray(r["embedding"], dtype=np.float32) for r in members]
                text = "\n".join(indexed_text(r["speaker"], r["text"], r.get("caption")) for r in members)[:MAX_EPISODE_TEXT]
                closed["episode"].append((state.open_episode, mean_vector(vectors), state.number, text, state.id))
        if corrected_sessions and state.id in corrected_sessions:
            closed["session"].append((state.id, corrected_sessions[state.id], state.number, session_preview(state.preview_pairs), None))
        elif state.vector_sum is not None and state.count:
            closed["session"].append((state.id, mean_vector([state.vector_sum]), state.number,
                                      session_preview(state.preview_pairs), None))

    # ------------------------------------------------------------------ corrections
    def _fixed_turn(self, row: Mapping[str, Any], record: TurnRecord, sessions: dict[str, _Session]) -> PlannedTurn:
        state = sessions.get(row["session_key"])
        started = state.started_at if state is not None else _time(row.get("started_at"))
        session = SessionRecord(key=row["session_key"], number=int(row["session_number"]), started_at=started)
        if record.timestamp is None and row.get("timestamp"):
            record = TurnRecord(speaker=record.speaker, text=record.text, source_id=record.source_id or row.get("source_id"),
                                timestamp=_time(row.get("timestamp")), caption=record.caption, metadata=record.metadata)
        return PlannedTurn(row["id"], session, row.get("session_id") or node_id(self.namespace, "session", row.get("conversation_id", ""), row["session_key"]),
                           int(row["index"]), record, int(row["seq"]), version=int(row.get("version") or 0) + 1)

    def _plan_corrections(self, conversation: str, fixed: list[PlannedTurn], turn_vectors: dict[str, np.ndarray],
                          plan: _Plan, planned: Sequence[PlannedTurn] = (),
                          replaced_meta: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """Statements replacing each corrected turn's text and everything derived from it.

        The same call's appends (``planned``) have rewritten the open episodes they grow (from
        the corrected texts); a corrected session's vector, count and preview take its new turns.
        ``replaced_meta`` (turn id -> its stored ``meta_*`` properties) goes to the kept version,
        and the new message's metadata replaces it on the turn."""
        ns = self.namespace
        now = datetime.now(timezone.utc).replace(tzinfo=None).isoformat()
        ids = [t.id for t in fixed]
        old_events = [r["id"] for r in self.store.read("forget/events_of_turns", {"namespace": ns, "ids": ids})]
        plan.old_events = old_events
        s = plan.statements
        s.append(("forget/delete_events", {"namespace": ns, "ids": old_events}))
        s.append(("write/clear_turn_associations", {"namespace": ns, "rows": [{"id": i} for i in ids]}))
        s.append(("write/clear_turn_topics", {"namespace": ns, "rows": [{"id": i} for i in ids]}))
        s.append(("write/replace_turns", {"namespace": ns, "rows": [{
            "id": t.id, "version_id": node_id(ns, "turn_version", t.id, t.version - 1), "replaced_at": now,
            "version_meta": dict((replaced_meta or {}).get(t.id, {})),
            "props": {"text": t.record.text, "speaker": t.record.speaker, "caption": t.record.caption,
                      "timestamp": iso(t.record.timestamp), "embedding": turn_vectors[t.id], "version": t.version,
                      "updated_at": now, **dict.fromkeys((replaced_meta or {}).get(t.id, {})),
                      **meta_properties(t.record.metadata)}} for t in fixed]}))
        changed = {t.id: t for t in fixed}
        episode_rows = self.store.read("read/turn_episodes", {"namespace": ns, "ids": ids})
        updates = []
        for episode in sorted({r["episode"] for r in episode_rows if r.get("episode")} - plan.episodes_rewritten):
            members = self.store.read("read/live_episode_turns", {"namespace": ns, "id": episode})
            vectors, texts, times = [], [], []
            for r in members:
                if r["id"] in changed:
                    t = changed[r["id"]]
                    vectors.append(turn_vectors[t.id])
                    texts.append(t.record.indexed_text)
                    times.append(iso(t.record.timestamp) or r.get("time"))  # a correction may give another time
                else:
                    vectors.append(stored_vector(r["embedding"], r["id"], self.embedder.dimension))
                    texts.append(indexed_text(r["speaker"], r["text"], r.get("caption")))
                    times.append(r.get("time"))
            if vectors:  # its span: its turns' earliest and latest times, as an ingest writes it
                started_at, ended_at = time_span(times)
                updates.append({"id": episode, "props": {"embedding": mean_vector(vectors), "started_at": started_at,
                                                         "ended_at": ended_at, "text": "\n".join(texts)[:MAX_EPISODE_TEXT]}})
        if updates:
            s.append(("write/update_episodes", {"namespace": ns, "rows": updates}))
            plan.replace_vectors("episode", [u["id"] for u in updates], np.stack([u["props"]["embedding"] for u in updates]))
        session_updates: list[dict[str, Any]] = []
        for session_id in sorted({t.session_id for t in fixed}):
            turns = self.store.read("read/live_session_turns", {"namespace": ns, "session_id": session_id})
            vectors, pairs = [], []
            for r in turns:
                t = changed.get(r["id"])
                vectors.append(turn_vectors[t.id] if t else stored_vector(r["embedding"], r["id"], self.embedder.dimension))
                pairs.append((t.record.speaker, t.record.text) if t else (r["speaker"], r["text"]))
            for t in planned:  # appended by this call, after the stored turns
                if t.session_id == session_id:
                    vectors.append(turn_vectors[t.id])
                    pairs.append((t.record.speaker, t.record.text))
            if vectors:
                total = np.sum(vectors, axis=0)
                mean = total / len(vectors)
                scale = float(np.linalg.norm(mean)) or 1.0
                props = {"embedding": (mean / scale).astype(np.float32), "embedding_scale": scale, "turn_count": len(vectors),
                         "preview": session_preview(pairs)}
                first = changed.get(turns[0]["id"]) if turns else None
                if (first is not None and first.record.timestamp is not None and turns[0].get("timestamp") is not None
                        and turns[0].get("started_at") == turns[0]["timestamp"]):
                    props["started_at"] = iso(first.record.timestamp)  # its start was its first message's time: it moves too
                session_updates.append({"id": session_id, "props": props})
        if session_updates:
            s.append(("write/update_sessions", {"namespace": ns, "rows": session_updates}))
            plan.replace_vectors("session", [u["id"] for u in session_updates], np.stack([u["props"]["embedding"] for u in session_updates]))
            plan.corrected_sessions.update((u["id"], u["props"]["embedding"]) for u in session_updates)

    def _orphans_after_correction(self, plan: _Plan) -> list[Statement]:
        """Entities only the replaced events used; deleted after the new events are merged
        (the statement's own guard keeps any entity a new event involves); and aliases promoted
        in place of a canonical only the replaced events named by its own key (kept as it is
        where a new event names it so)."""
        from graphmem.forget import entities_after, entity_statements

        old_events = plan.old_events
        if not old_events and not plan.respoken:
            return []
        entities, promoted = entities_after(self.store, self.namespace, old_events, self.settings.write_batch_size,
                                            speakers_now=plan.speakers_now, respoken=plan.respoken)
        if not entities and not promoted:
            return []
        plan.entities_deleted = True
        return entity_statements(self.namespace, entities, promoted)

    def _same_session_units(self, touched: list[_Session], fixed: list[PlannedTurn]) -> set[str]:
        """Stored turns and episodes of the sessions written to (never association candidates:
        associations join memories of different sessions)."""
        by_id = {st.id: st for st in touched}
        session_ids = sorted({st.id for st in touched if not st.new} | {t.session_id for t in fixed})
        found: set[str] = set()
        for session_id in session_ids:
            state = by_id.get(session_id)
            if state is not None and state.units is not None:
                found |= state.units
                continue
            units = {session_id}
            for row in self.store.read("read/live_session_units", {"namespace": self.namespace, "session_id": session_id}):
                units.add(row["turn"])
                if row.get("episode"):
                    units.add(row["episode"])
            found |= units
            if state is not None:
                state.units = units
        return found
