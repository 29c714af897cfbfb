"""Batch ingestion: loaded conversations in, graph nodes and index entries out.

Each conversation is written in ONE transaction (all its batches), so a failure
leaves nothing of it half-written; ids are content hashes, so re-ingesting the
same input writes nothing new and embeds nothing again.
"""

from __future__ import annotations

import logging
from collections import Counter
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, Callable, Sequence, cast

import numpy as np

from graphmem.caches import INDEXED_UNITS, SETTINGS_TZ
from graphmem.changes import writer_bump
from graphmem.embed import Embedder
from graphmem.errors import InputError
from graphmem.ids import node_id
from graphmem.index import stored_vector
from graphmem.ingest.clustering import ClusteringStage
from graphmem.ingest.common import SEQ_STRIDE, mean_vector, order_links, session_preview
from graphmem.ingest.episodes import EpisodeStage
from graphmem.ingest.events import EventStage, language_pipeline
from graphmem.ingest.segment import EpisodeSegmenter
from graphmem.ingest.types import PlannedTurn, StageOutput, UnitBatch, iso, turn_slot
from graphmem.records import ConversationRecord, SessionRecord, meta_properties
from graphmem.settings import Settings
from graphmem.store import GraphStore, Statement, chunked

if TYPE_CHECKING:
    from graphmem.caches import NamespaceCaches

__all__ = ["IngestReport", "IngestPipeline", "Progress", "SEQ_STRIDE"]

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)`` callback used by the CLI's progress bars. Each stage counts
turns of the whole ingest (``total`` is every turn read), only grows, and ends at ``total``:

- ``"embed"``: turns embedded (or found already stored), reported every few batches
  (:data:`~graphmem.embed.PROGRESS_BATCHES`), so it moves inside one long conversation;
- ``"extract"``: turns whose events and entities are derived (or that were stored already),
  reported as each turn's events are split and embedded, so it moves inside one long
  conversation too (a turn split into several events counts once the embedding of the
  events, longest first, reaches its last; a conversation's last turn counts once its
  entities are resolved);
- ``"ingest"``: turns of the conversations committed, reported once per conversation (each
  is written in one transaction)."""

WAVE_TURNS = 4096
"""Most new turns embedded in one call across the conversations of an ingest (bounds memory)."""


@dataclass
class IngestReport:
    """What an ingest did.

    Attributes:
        conversations, sessions: how many were read from the sources.
        turns_read: turns read from the sources.
        turns_added: turns newly stored (the rest were already there).
        turns_corrected: stored turns whose message changed in the source (same session and
            source id, or same position): replaced as :meth:`graphmem.Memory.add` corrects.
        turns_flagged: new turns stored verbatim without events because deriving them
            raised (each logged with its conversation and turn id; see ``graphmem check``).
        units_embedded: texts embedded per unit kind.
        seconds: wall time; stage_seconds: wall time per stage (``embed`` is finding the
            new turns and embedding them; ``extract`` includes embedding the events and
            waiting there for the previous conversation's commit; ``write`` is building the
            statements and running the transactions, which run in a writer thread beside the
            next conversation's analysis, so the stages add up to more than ``seconds``;
            ``write_wait`` is the part of the writes the ingest waited for).
    """

    sources: list[str] = field(default_factory=list)
    conversations: int = 0
    sessions: int = 0
    turns_read: int = 0
    turns_added: int = 0
    turns_flagged: int = 0
    turns_corrected: int = 0
    units_embedded: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    embedded_texts: dict[str, list[str]] = field(default_factory=dict, repr=False)
    collect_texts: bool = field(default=False, repr=False)

    def embedded(self, unit: str, texts: Sequence[str]) -> None:
        """Count ``texts`` as embedded for ``unit`` (kept verbatim when ``collect_texts``)."""
        self.units_embedded[unit] = self.units_embedded.get(unit, 0) + len(texts)
        if self.collect_texts:
            self.embedded_texts.setdefault(unit, []).extend(texts)

    def add_time(self, stage: str, seconds: float) -> None:
        """Accumulate ``seconds`` under ``stage``."""
        self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + seconds

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "sources": self.sources,
            "conversations": self.conversations,
            "sessions": self.sessions,
            "turns_read": self.turns_read,
            "turns_added": self.turns_added,
            "turns_flagged": self.turns_flagged,
            "turns_corrected": self.turns_corrected,
            "units_embedded": dict(self.units_embedded),
            "created": dict(self.counts),
            "seconds": round(self.seconds, 3),
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
        }

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in self.to_dict().items())
        return f"<table>{rows}</table>"


def _session_preview(session: SessionRecord) -> str:
    """The stored ``Session.preview`` (its first turns), also the session's text for topics."""
    return session_preview((t.speaker, t.text) for t in session.turns)


@dataclass
class _Prepared:
    """A conversation's planned turns, which of them are stored already, and the new ones' vectors."""

    record: ConversationRecord
    turns: list[PlannedTurn]
    session_ids: dict[str, str]
    existing: set[str]
    new_turns: list[PlannedTurn]
    texts: list[str]
    vectors: np.ndarray | None
    corrections: list[tuple[dict, Any]] = field(default_factory=list)


@dataclass
class _InFlight:
    """A conversation's transaction running in the writer thread, and what follows its commit."""

    key: str
    added: int
    stored: int
    vectors: dict[str, tuple[list[str], np.ndarray]]
    on_commit: Callable[[], None] | None
    future: "Future[_Written] | None" = None
    # set once the transaction has ended (the ANN index adds that follow in the writer thread are short)
    written: threading.Event = field(default_factory=threading.Event)


def _read_ahead(future: "Future[dict[tuple[str, str], list[dict[str, Any]]]] | None") -> dict[tuple[str, str], list[dict[str, Any]]] | None:
    """The rows a read ahead gave (its thread has ended: the writer pool is shut down first),
    or ``None`` when there was none or it failed (place then reads them itself)."""
    if future is None:
        return None
    try:
        return future.result()
    except Exception:  # noqa: BLE001 - place reads again, and raises if the store still fails
        logger.debug("the reads ahead of placing topics failed; placing reads them", exc_info=True)
        return None


@dataclass
class _Written:
    """What the writer thread did for one transaction: its seconds, then the seconds of putting
    its vectors into the ANN indexes (and the error that raised, for the ingest's thread)."""

    seconds: float
    index_seconds: float = 0.0
    index_error: BaseException | None = None
    turns_created: int = 0  # counted inside the transaction (tally/count_created_turns)


class IngestPipeline:
    """Runs the ingestion stages for one namespace of one store.

    Args:
        store: an open graph store.
        embedder: the sentence embedder.
        settings: batch sizes and other knobs.
        namespace: the tenant written to.
        caches: the namespace's cache owner: its ANN indexes give association candidates,
            each transaction logs its changes with :meth:`NamespaceCaches.bump`, and each
            commit's new embeddings go into its indexes at once. Without it, topics and
            associations are skipped and other processes rebuild their caches.
        tz: the namespace's time zone, where relative times resolve (default ``settings.tz``;
            see :mod:`graphmem.namespace_settings`).
    """

    def __init__(
        self,
        store: GraphStore,
        embedder: Embedder,
        settings: Settings,
        namespace: str,
        caches: NamespaceCaches | None = None,
        tz: tzinfo | None | object = SETTINGS_TZ,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.namespace = namespace
        self.caches = caches
        self._writer = None
        #: the texts, captions and speakers that the file's corrections replaced (see
        #: :attr:`graphmem.ingest.live.LiveWriter.replaced_texts`)
        self.replaced_texts: list[str] = []
        self._session_stats: dict[str, tuple[int, float]] = {}
        self._write_pool: ThreadPoolExecutor | None = None
        self._in_flight: _InFlight | None = None
        # work for this thread while it waits for the writer's commit (see _await_write)
        self._idle: list[Callable[[], bool]] = []
        self._episodes = EpisodeStage(store, EpisodeSegmenter(settings.segmenter), namespace, settings.write_batch_size)
        self.tz: tzinfo | None = settings.tz if tz is SETTINGS_TZ else cast("tzinfo | None", tz)
        self._events = EventStage(store, embedder, language_pipeline(settings.spacy_model), namespace, settings.write_batch_size,
                                  self.tz)
        self._clustering = (ClusteringStage(store, caches.index, caches.directory, namespace, batch_size=settings.write_batch_size)
                            if caches is not None else None)

    def run(self, records: Sequence[ConversationRecord], progress: Progress | None = None, report: IngestReport | None = None) -> IngestReport:
        """Ingest ``records``: one transaction per conversation, then one placing the new
        units in topics (see :meth:`ClusteringStage.place`).

        A conversation's transaction runs in a writer thread while the next conversation's
        turns are analysed (the database works on one core, the language pipeline on the
        other); the next conversation waits for that commit before the model embeds its
        events (the model needs both cores: sharing one with the database made embedding
        20-40% slower) and before it associates with stored units (the commit's vectors go
        into the ANN indexes first). Its entities resolve against the resolver the previous
        conversation left, which knows every entity that commit writes. The topics
        :meth:`ClusteringStage.place` will refit are fitted ahead
        (:meth:`ClusteringStage.prefit`): the turns' in the waits for a commit after the last
        wave is embedded (see :meth:`_fit_turn_topics_when_idle`), the others while the last
        transaction commits; beside those fits the writer thread does the reads place starts
        with, once that commit is in (:meth:`ClusteringStage.read_ahead`). Each transaction
        still holds one whole conversation, and a failed one stops the ingest before the next
        is written. LoCoMo dev (3 conversations, one traced run): the turn mixtures (0.67 s
        with their reads) ran in a 1.0 s wait for the first commit, the others (0.65 s)
        beside the last commit (0.97 s).
        """
        report = report or IngestReport()
        started = time.perf_counter()
        for record in records[1:]:  # nothing of a file is written when a later conversation conflicts with the store
            self._plan(record)      # (a message inserted, moved: an InputError), only reads
        total_turns = sum(r.turn_count for r in records)
        done = 0
        extract_done = 0

        def extract(count: int) -> None:
            nonlocal extract_done
            if progress and count > extract_done:
                extract_done = count
                progress("extract", count, total_turns)

        fresh: dict[str, list[UnitBatch]] = {}
        ahead: Future[dict[tuple[str, str], list[dict[str, Any]]]] | None = None
        position = 0
        self._events.drop_resolver()
        self._events.keep_resolver = True
        self._events.settle = lambda: self._await_write(report)
        self._write_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graphmem-ingest-write")
        try:
            while position < len(records):
                self._await_write(report)  # a wave's reads (stored turns) must see every earlier commit
                t0 = time.perf_counter()
                wave = self._prepare_wave(records, position, progress, done, total_turns)
                report.add_time("embed", time.perf_counter() - t0)
                if self._clustering is not None and position + len(wave) == len(records):
                    self._fit_turn_topics_when_idle(fresh, wave, records, report)
                for prepared in wave:
                    base = done + len(prepared.turns) - len(prepared.new_turns)  # stored turns need no extraction
                    counted = (lambda count, base=base: extract(base + count)) if progress else None
                    done += prepared.record.turn_count
                    committed = (lambda done=done: progress("ingest", done, total_turns)) if progress else None
                    for unit, batch in self._ingest_conversation(prepared, report, counted, committed).items():
                        fresh.setdefault(unit, []).append(batch)
                    extract(done)
                position += len(wave)
            if self._clustering is not None and self._in_flight is not None:
                # the topics place() will refit, fitted while the last transaction commits
                # (the database works on one core, the mixtures on the other); the reads place()
                # starts with done in the writer thread after that commit, beside the fits
                self._idle = []
                t0 = time.perf_counter()
                clustering, pool = self._clustering, self._write_pool

                def read_ahead(units: list[str]) -> None:
                    nonlocal ahead
                    ahead = pool.submit(clustering.read_ahead, units)

                clustering.prefit({unit: UnitBatch.concat(batches) for unit, batches in fresh.items()},
                                  speakers=self._speakers(records), fitting=read_ahead)
                report.add_time("cluster", time.perf_counter() - t0)
            self._await_write(report)
        except BaseException:
            self._abandon_write(report)
            raise
        finally:
            self._idle = []
            pool, self._write_pool = self._write_pool, None
            pool.shutdown(wait=True)
            self._events.keep_resolver = False
            self._events.settle = None
            self._events.drop_resolver()
        if self._clustering is not None:
            self._place_in_topics(fresh, self._speakers(records), report, _read_ahead(ahead))
        report.seconds += time.perf_counter() - started
        return report

    @staticmethod
    def _speakers(records: Sequence[ConversationRecord]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for r in records for s in r.speakers))

    def _fit_turn_topics_when_idle(self, fresh: dict[str, list[UnitBatch]], wave: list["_Prepared"],
                                   records: Sequence[ConversationRecord], report: IngestReport) -> None:
        """Once the last wave is embedded every new turn of the ingest is known: fit the turn
        topics :meth:`ClusteringStage.place` will refit while this thread next waits for a
        commit (see :meth:`_await_write`), instead of at the end beside the last commit.

        LoCoMo dev: the turn mixtures (0.37 s) ran in the 0.7 s the second conversation waited
        for the first one's commit; the event mixtures alone (0.48 s) then fit within the
        last commit (0.77 s), where all of them together (0.93 s) overran it.

        The fit stops between two mixtures once the transaction it waits for has ended, and
        goes on from the mixtures it has in the next wait, or at the end: a commit that ends
        soon after the fit began no longer holds the ingest up for the whole fit (LongMemEval
        dev12: a 2.56 s turn fit in a wait whose transaction ended soon after it began).

        Not when the wave corrects stored turns: the fit could read a turn before its
        correction, and a corrected turn keeps its id, so place could not tell."""
        if any(prepared.corrections for prepared in wave):
            return
        turns = [*fresh.get("turn", []), *(
            UnitBatch(ids=[t.id for t in prepared.new_turns], vectors=prepared.vectors,
                      sessions=[t.session.number for t in prepared.new_turns],
                      texts=[t.record.text for t in prepared.new_turns],  # as EpisodeStage gives them (Turn.text)
                      parents=[None] * len(prepared.new_turns))
            for prepared in wave if prepared.new_turns and prepared.vectors is not None)]
        if not turns:
            return
        batch = UnitBatch.concat(turns)
        speakers = self._speakers(records)

        def fit() -> bool:  # run by _await_write while a transaction is in flight
            assert self._clustering is not None and self._in_flight is not None
            t0 = time.perf_counter()
            try:
                return self._clustering.prefit({"turn": batch}, speakers=speakers, pause=self._in_flight.written.is_set)
            finally:
                report.add_time("cluster", time.perf_counter() - t0)

        self._idle.append(fit)

    def _await_write(self, report: IngestReport) -> None:
        """Wait for the conversation transaction in flight, if any, and for its vectors to be in
        the ANN indexes (the writer thread adds them right after the commit, while this thread
        analyses the next conversation: LongMemEval dev12 took 3.7 s of index adds, here on
        the critical path before); then apply what follows (counts, progress). Raises the
        write's error, or the index's once the commit is counted.

        While the transaction itself is still running, this thread first does the work queued
        for such a wait (:meth:`_fit_turn_topics_when_idle`): the database works on one core,
        and the mixtures take the other, which would otherwise sit idle. Not while only the
        index adds remain: they end soon, and the fit would then hold up the ingest (LongMemEval
        dev12: a 2.2 s turn fit where the wait was a fraction of a second); a fit under way
        stops once the transaction ends, and goes on in the next such wait."""
        while self._idle and self._in_flight is not None and not self._in_flight.written.is_set():
            if not self._idle[0]():
                break  # paused: the transaction ended; it goes on in the next wait
            self._idle.pop(0)
        flight, self._in_flight = self._in_flight, None
        if flight is None:
            return
        t0 = time.perf_counter()
        done = flight.future.result()
        report.add_time("write_wait", time.perf_counter() - t0)
        report.add_time("write", done.seconds)
        if self._clustering is not None:
            self._clustering.commit()
        # what the transaction created, not what was planned: a concurrent ingest of the same file
        # (another process over Bolt) may have stored some of the planned turns first
        report.turns_added += done.turns_created
        if done.turns_created < flight.added:
            logger.info("conversation %r: %d of its planned new turns were stored meanwhile by another writer", flight.key,
                        flight.added - done.turns_created)
        logger.info("conversation %r: stored %d new turns (%d already there)", flight.key, done.turns_created,
                    flight.stored + flight.added - done.turns_created)
        if self.caches is not None:
            report.add_time("index", done.index_seconds)
            if done.index_error is not None:
                raise done.index_error
        if flight.on_commit is not None:
            flight.on_commit()

    def _abandon_write(self, report: IngestReport) -> None:
        """The ingest is failing: let the transaction in flight end (it is never left running
        past the ingest), and apply its commit if it made one, without raising its own error
        over the one already raised."""
        if self._in_flight is None:
            return
        key = self._in_flight.key
        try:
            self._await_write(report)
        except Exception:  # noqa: BLE001 - the ingest's first error is the one reported
            logger.warning("conversation %r: its write failed too, after an earlier error", key, exc_info=True)

    def _submit_write(self, statements: list[Statement], flight: "_InFlight") -> None:
        """Run one conversation's transaction in the writer thread (or here, without one); its
        parameters are converted here first (see :meth:`GraphStore.prepare`)."""
        if self._write_pool is not None:
            statements = self.store.prepare(statements)

        def write() -> _Written:
            t0 = time.perf_counter()
            try:
                tallied = self.store.write(statements)
            finally:
                flight.written.set()
            done = _Written(time.perf_counter() - t0, turns_created=sum(int(row["created"]) for row in tallied))
            if self.caches is not None:
                t0 = time.perf_counter()
                try:
                    self.caches.committed(flight.vectors)
                except BaseException as exc:  # noqa: BLE001 - raised in the ingest's thread (_await_write), after the commit's counts
                    done.index_error = exc
                done.index_seconds = time.perf_counter() - t0
            return done

        if self._write_pool is None:
            future: Future[_Written] = Future()
            future.set_result(write())
        else:
            future = self._write_pool.submit(write)
        flight.future = future
        self._in_flight = flight

    def _place_in_topics(self, fresh: dict[str, list[UnitBatch]], speakers: tuple[str, ...], report: IngestReport,
                         ahead: dict[tuple[str, str], list[dict[str, Any]]] | None = None) -> None:
        """Topics for the units just committed (and any an interrupted ingest left), in one
        transaction; ``ahead``: the reads :meth:`ClusteringStage.read_ahead` did after the last commit."""
        assert self._clustering is not None
        t0 = time.perf_counter()
        output = self._clustering.place({unit: UnitBatch.concat(batches) for unit, batches in fresh.items()}, speakers=speakers,
                                        ahead=ahead)
        report.add_time("cluster", time.perf_counter() - t0)
        for name, count in output.counts.items():
            report.counts[name] = report.counts.get(name, 0) + count
        if output.statements:
            t0 = time.perf_counter()
            self.store.write([*output.statements, writer_bump(self.namespace, self.caches, ())])
            self._clustering.commit()
            report.add_time("write", time.perf_counter() - t0)
            if self.caches is not None:
                self.caches.committed()

    # ------------------------------------------------------------------ stages
    def _numbered(self, record: ConversationRecord) -> ConversationRecord:
        """``record`` with its sessions numbered as the store numbers them.

        A loader numbers sessions by their place in the file, so a file holding part of a
        stored conversation (its later sessions, or a new one after some were forgotten) would
        give a stored session another number, or a new session the number of a stored one:
        its turns' positions (``seq``) then clash with stored turns (the database refused the
        ingest on ``Turn.slot``) or leave the conversation's order broken. A stored session
        keeps its number; a new one keeps the file's unless another session holds it or it
        would not come after the session before it in the file, and is numbered after every
        stored session then. A conversation not stored yet keeps the file's numbers."""
        ns = self.namespace
        rows = self.store.read("read/live_conversation", {"namespace": ns, "conversation_node": node_id(ns, "conversation", record.key)})
        stored = {row["key"]: int(row["number"]) for row in rows if row.get("id") is not None}
        if not stored:
            return record
        held = set(stored.values())
        top, previous = max(held), 0
        sessions = []
        for session in record.sessions:
            number = stored.get(session.key)
            if number is None:
                number = session.number if session.number not in held and session.number > previous else top + 1
                held.add(number)
                top = max(top, number)
            previous = number
            sessions.append(session if number == session.number else replace(session, number=number))
        return replace(record, sessions=tuple(sessions))

    def _plan(self, record: ConversationRecord) -> "_Prepared":
        """Plan the conversation's turns and find which are new (a read); nothing embedded yet."""
        record = self._numbered(record)
        ns = self.namespace
        turns: list[PlannedTurn] = []
        session_ids: dict[str, str] = {}
        for session in record.sessions:
            sid = session_ids[session.key] = node_id(ns, "session", record.key, session.key)
            for index, turn in enumerate(session.turns):
                turns.append(self._placed(record.key, PlannedTurn("", session, sid, index, turn, 0), index))
        existing = self._existing_turn_ids([t.id for t in turns])
        corrections = self._changed_turns(record.key, [t for t in turns if t.id not in existing], existing, turns)
        new_turns = [t for t in turns if t.id not in existing]
        return _Prepared(record, turns, session_ids, existing, new_turns, [t.record.indexed_text for t in new_turns], None,
                         corrections)

    def _changed_turns(self, conversation_key: str, unknown: list[PlannedTurn], existing: set[str],
                       planned: Sequence[PlannedTurn] = ()) -> list[tuple[dict, Any]]:
        """Messages of a re-ingested file whose text changed: a turn is the same message when
        its conversation, session and source id match (or its position, without a source id, when
        the file and the store do not give it different times: a follow-up file of new messages
        without ids replaced the stored ones at its positions).
        A message whose id the file gives once, stored in another session of the conversation
        and not in that session of the file, moved: refused (it was stored a second time).

        Each such planned turn takes the stored turn's id (and counts as stored); the pairs
        ``(stored row, new record)`` are returned for :meth:`LiveWriter.correct`. A stored message
        the file gives with other metadata is one too (as ``add`` takes it); one the file gives at
        another time alone is kept as stored (as ``add`` keeps it), which is logged."""
        if not unknown and not existing:
            return []
        rows = self.store.read("read/conversation_turn_positions", {"namespace": self.namespace, "conversation_id": conversation_key})
        pairs = self._changed_metadata(conversation_key, rows, existing, planned)
        if not unknown:
            return pairs
        by_source = {(r["session_key"], r["source_id"]): r for r in rows if r.get("source_id") is not None}
        by_position = {(r["session_key"], int(r["index"])): r for r in rows if r.get("index") is not None}
        shifted: list[tuple[PlannedTurn, dict[str, Any]]] = []
        for turn in unknown:
            key = turn.record.source_id
            row = by_source.get((turn.session.key, key)) if key is not None else by_position.get((turn.session.key, turn.index))
            if row is None or row["id"] in existing:
                continue
            if int(row["index"]) != turn.index and key is not None:
                shifted.append((turn, row))  # at another position: a forgotten message's gap, or moved (below)
                continue
            if key is None and turn.record.timestamp is not None and row.get("timestamp") is not None \
                    and row["timestamp"] != iso(turn.record.timestamp):
                continue  # known by position only, and said at another time: another message, not a correction
            turn.id = row["id"]
            existing.add(row["id"])
            if not self._says_what_was_stored(row, turn.record):
                pairs.append((row, turn.record))
        self._across_gaps(conversation_key, shifted, planned, by_position, existing, pairs)
        once = Counter(t.record.source_id for t in planned if t.record.source_id is not None)
        stored_with: dict[Any, list[dict[str, Any]]] = {}  # source id -> its stored turns (one read, looked up per turn)
        for row in rows:
            if row.get("source_id") is not None:
                stored_with.setdefault(row["source_id"], []).append(row)
        for turn in unknown:
            key = turn.record.source_id
            if turn.id in existing or key is None or once[key] != 1:
                continue  # (a source numbering its messages per session gives an id more than once)
            moved = [r for r in stored_with.get(key, ()) if r["session_key"] != turn.session.key and r["id"] not in existing]
            if moved:
                raise InputError(
                    f"conversation {conversation_key!r}: message {key!r} is stored in session {moved[0]['session_key']!r} "
                    f"and the file puts it in session {turn.session.key!r}; a stored conversation takes corrected and "
                    f"appended messages, not messages moved to another session; forget it first (graphmem forget "
                    f"--turn {moved[0]['id']}) to ingest it there")
        last: dict[str, int] = {}  # session key -> the last stored position: a new message must come after it
        for session_key, index in by_position:
            last[session_key] = max(index, last.get(session_key, -1))
        for turn in unknown:  # a new message placed before a stored one: inserted, moved or back in a gap
            stored_last = last.get(turn.session.key, -1)
            if turn.id not in existing and turn.index <= stored_last:
                row = by_position.get((turn.session.key, turn.index))
                holder = ("the stored message " + (repr(row["source_id"]) if row.get("source_id") is not None
                                                   else "added without an id") + " holds it"
                          if row is not None and row["id"] not in existing else f"stored messages follow it up to position {stored_last}")
                raise InputError(
                    f"conversation {conversation_key!r}, session {turn.session.key!r}: message "
                    f"{turn.record.source_id or turn.index!r} would take position {turn.index}, but {holder}; a stored "
                    f"conversation takes corrected and appended messages, not messages inserted between, moved, or put "
                    f"back where a forgotten one was; forget it first (graphmem forget --conversation "
                    f"{conversation_key}) to ingest it anew")
        return pairs

    def _across_gaps(self, conversation_key: str, shifted: list[tuple[PlannedTurn, dict[str, Any]]],
                     planned: Sequence[PlannedTurn], by_position: dict[tuple[str, int], dict[str, Any]],
                     existing: set[str], pairs: list[tuple[dict, Any]]) -> None:
        """Messages a file gives by id at another position than the stored ones (after a forget, the
        file that no longer holds the forgotten message: every later one sits a place earlier). In a
        session where the file gives its stored messages in their stored order, each is the stored
        one (unchanged or corrected), and the file's new messages after the last of them are appended
        after the session's last stored message. Elsewhere they are left unknown (moved, or
        inserted: refused by the caller)."""
        by_session: dict[str, dict[int, dict[str, Any]]] = {}  # session key -> id(file turn) -> stored row
        for turn, row in shifted:
            by_session.setdefault(turn.session.key, {})[id(turn)] = row
        for session_key, rows in by_session.items():
            in_file = [t for t in planned if t.session.key == session_key]
            stored_at = [int(rows[id(t)]["index"]) if id(t) in rows else t.index if t.id in existing else None for t in in_file]
            known = [index for index in stored_at if index is not None]
            if any(b <= a for a, b in zip(known, known[1:])):
                continue  # not in their stored order: moved
            for turn in in_file:
                found = rows.get(id(turn))
                if found is None:
                    continue
                row = found
                turn.id, turn.index, turn.seq = row["id"], int(row["index"]), int(row["seq"])
                existing.add(row["id"])
                if not self._says_what_was_stored(row, turn.record):
                    pairs.append((row, turn.record))
            last_known = max(p for p, index in enumerate(stored_at) if index is not None)
            stored_last = max(index for (key, index) in by_position if key == session_key)
            for offset, turn in enumerate(in_file[last_known + 1:], 1):  # new after them: appended after the stored ones
                if turn.id in existing:
                    continue
                self._placed(conversation_key, turn, stored_last + offset)

    def _placed(self, conversation_key: str, turn: PlannedTurn, index: int) -> PlannedTurn:
        """``turn`` at position ``index`` of its session: its index, its sequence number and the id a
        message there with its speaker, text and caption has (``turn`` itself, updated)."""
        record = turn.record
        turn.index, turn.seq = index, turn.session.number * SEQ_STRIDE + index
        turn.id = node_id(self.namespace, "turn", conversation_key, turn.session.key, index, record.speaker, record.text,
                          record.caption)
        return turn

    def _says_what_was_stored(self, row: dict[str, Any], record: Any) -> bool:
        """Whether a file's message, found at a stored turn's place under another id, says what
        that turn says now (the file that corrected it, ingested again: it made another version of
        the same text each time) or said first (the file before the correction: its id is the
        stored turn's in the namespace that ingested it, where it changes nothing, but not in a
        namespace renamed on import, where the corrected turn took another id)."""
        from graphmem.ingest.live import same_message

        if same_message(row, record):
            return True
        if not int(row.get("version") or 0):
            return False
        first = self.store.read("read/turn_versions", {"namespace": self.namespace, "id": row["id"]})[:1]
        return bool(first) and same_message(first[0], record)

    def _changed_metadata(self, conversation_key: str, rows: list[dict[str, Any]], existing: set[str],
                          planned: Sequence[PlannedTurn]) -> list[tuple[dict, Any]]:
        """Pairs ``(stored row, new record)`` of the stored messages (``existing``: the same place,
        speaker, text and caption) whose metadata the file changed; logs how many it gives at
        another time."""
        from graphmem.ingest.live import same_metadata

        by_id = {r["id"]: r for r in rows}
        pairs, redated = [], 0
        for turn in planned:
            row = by_id.get(turn.id) if turn.id in existing else None
            if row is None:
                continue
            if not same_metadata(row, turn.record):
                pairs.append((row, turn.record))
            elif turn.record.timestamp is not None and row.get("timestamp") != iso(turn.record.timestamp):
                redated += 1
        if redated:
            logger.warning("conversation %r: %d stored messages are given at another time in the file; a message keeps the "
                           "time it was stored with unless its text, speaker, caption or metadata change (forget the "
                           "conversation to ingest it anew)", conversation_key, redated)
        return pairs

    def _prepare_wave(self, records: Sequence[ConversationRecord], start: int, progress: Progress | None = None,
                      done: int = 0, total: int = 0) -> list["_Prepared"]:
        """Plan the conversations from ``start`` on and embed their new turns in ONE call.

        A wave ends before a conversation whose key it already holds (its lookup must see
        the earlier one's commit) and before it would pass :data:`WAVE_TURNS` turns. One
        call embeds faster than one per conversation: the model sorts all the texts by
        length, so its batches carry less padding (5-10% on the dev set's turns)."""
        wave: list[_Prepared] = []
        keys: set[str] = set()
        planned_turns = 0
        for record in records[start:]:
            if wave and (record.key in keys or planned_turns + record.turn_count > WAVE_TURNS):
                break
            prepared = self._plan(record)
            wave.append(prepared)
            keys.add(record.key)
            planned_turns += len(prepared.new_turns)
        texts = [text for prepared in wave for text in prepared.texts]
        stored = sum(len(prepared.turns) - len(prepared.texts) for prepared in wave)  # nothing to embed for these

        def embedded(count: int, _texts: int) -> None:
            if progress:
                progress("embed", done + stored + count, total)

        vectors = self.embedder.encode(texts, progress=embedded) if texts else None
        if not texts:
            embedded(0, 0)
        offset = 0
        for prepared in wave:
            if prepared.texts:
                assert vectors is not None
                prepared.vectors = vectors[offset:offset + len(prepared.texts)]
                offset += len(prepared.texts)
        return wave

    def _ingest_conversation(self, prepared: "_Prepared", report: IngestReport,
                             extracted: Callable[[int], None] | None = None,
                             on_commit: Callable[[], None] | None = None) -> dict[str, UnitBatch]:
        """Derive one conversation's new units and start the transaction that writes them and
        all derived from them (not topics) in the writer thread; returns the new units by
        granularity. ``extracted(done)`` counts the new turns whose events and entities are
        derived (see :meth:`EventStage.run`); ``on_commit()`` runs once the transaction has
        committed (see :meth:`_await_write`)."""
        record, turns, session_ids, existing = prepared.record, prepared.turns, prepared.session_ids, prepared.existing
        new_turns = prepared.new_turns
        ns = self.namespace
        conv_id = node_id(ns, "conversation", record.key)
        report.conversations += 1
        report.sessions += len(record.sessions)
        report.turns_read += len(turns)
        if prepared.corrections:
            self._await_write(report)  # corrections are written at once, after what came before
            t0 = time.perf_counter()
            corrected = self._live().correct(record.key, prepared.corrections)
            self.replaced_texts += self._live().replaced_texts  # (the caller checks the topic labels)
            self._events.drop_resolver()  # a correction changes the stored entities
            report.turns_corrected += corrected.corrected
            report.add_time("correct", time.perf_counter() - t0)
        if not new_turns:
            logger.info("conversation %r: all %d turns already stored", record.key, len(turns))
            if on_commit is not None:
                self._await_write(report)
                on_commit()
            return {}

        texts, vectors = prepared.texts, prepared.vectors
        assert vectors is not None
        report.embedded("turn", texts)
        turn_vectors = {t.id: v for t, v in zip(new_turns, vectors)}

        stage_outputs: list[StageOutput] = []
        t0 = time.perf_counter()
        stage_outputs.append(self._episodes.run(record.key, new_turns, turn_vectors))
        report.add_time("segment", time.perf_counter() - t0)
        t0 = time.perf_counter()
        stage_outputs.append(self._events.run(record.key, record.speakers, new_turns, turn_vectors, progress=extracted))
        report.add_time("extract", time.perf_counter() - t0)
        units: dict[str, UnitBatch] = {}
        for output in stage_outputs:
            units.update(output.units)
        new_sessions = [s for s in record.sessions if all(t.id not in existing for t in turns if t.session is s)
                        and any(t.session is s for t in new_turns)]
        session_vectors = self._session_vectors(
            [s for s in record.sessions if any(t.session is s for t in new_turns)], session_ids, turns, turn_vectors)

        def session_batch(sessions: list) -> UnitBatch:
            return UnitBatch(ids=[session_ids[s.key] for s in sessions],
                             vectors=np.stack([session_vectors[session_ids[s.key]] for s in sessions]),
                             sessions=[s.number for s in sessions], texts=[_session_preview(s) for s in sessions],
                             parents=[None] * len(sessions))
        if new_sessions:
            units["session"] = session_batch(new_sessions)
        grown = [s for s in record.sessions if session_ids[s.key] in session_vectors and s not in new_sessions]
        if self._clustering is not None and grown:
            # stored sessions this transaction gives a new mean: the topics are fitted on it, even
            # when they read the session before the transaction commits
            self._clustering.remember("session", session_batch(grown))
        if self._clustering is not None:
            self._await_write(report)  # associations reach the units the transaction in flight stores
            t0 = time.perf_counter()
            stage_outputs.append(self._clustering.associate(units))
            report.add_time("cluster", time.perf_counter() - t0)
        for output in stage_outputs:
            for unit, texts in output.embedded.items():
                report.embedded(unit, texts)
            report.turns_flagged += output.counts.pop("extraction_errors", 0)
            for name, count in output.counts.items():
                report.counts[name] = report.counts.get(name, 0) + count

        t0 = time.perf_counter()
        touched_sessions = [s for s in record.sessions if any(t.session is s for t in new_turns)]
        statements: list[Statement] = []
        statements.append(("write/merge_conversations", {"rows": [{
            "id": conv_id,
            "props": {"namespace": ns, "key": record.key, "speakers": list(record.speakers), "source": record.source,
                      **meta_properties(record.metadata)},
        }]}))
        statements.append(("write/merge_sessions", {"rows": [{
            "id": session_ids[s.key], "conversation_id": conv_id,
            "props": {"namespace": ns, "conversation_id": record.key, "key": s.key, "number": s.number,
                      "started_at": iso(s.started_at), "date_text": s.date_text,
                      "preview": _session_preview(s)},
        } for s in touched_sessions]}))
        # the topic-placement ledger: these sessions hold units that wait for the placing transaction
        statements.append(("write/mark_sessions_placing", {"namespace": ns, "rows": [{"id": session_ids[s.key]} for s in touched_sessions]}))
        mark = uuid.uuid4().hex  # set on the turns this transaction creates, counted and removed in it
        turn_rows = [{
            "id": t.id, "session_id": t.session_id,
            "props": {"namespace": ns, "conversation_id": record.key, "session_key": t.session.key,
                      "session_number": t.session.number, "index": t.index, "seq": t.seq,
                      "slot": turn_slot(ns, record.key, t.seq), "speaker": t.record.speaker, "text": t.record.text, "caption": t.record.caption,
                      "source_id": t.record.source_id, "timestamp": iso(t.record.timestamp),
                      "embedding": turn_vectors[t.id], **meta_properties(t.record.metadata), "tally_mark": mark},
        } for t in new_turns]
        for rows in chunked(turn_rows, self.settings.write_batch_size):
            statements.append(("write/merge_turns", {"rows": list(rows)}))
        statements.extend(("tally/count_created_turns", {"ids": [row["id"] for row in rows], "mark": mark})
                          for rows in chunked(turn_rows, self.settings.write_batch_size))
        links, unlinks = self._turn_order(record.key, new_turns)
        if unlinks:
            statements.append(("write/unlink_next_turns", {"namespace": ns, "rows": unlinks}))
        statements.extend(("write/merge_next_turns", {"rows": list(rows)}) for rows in chunked(links, self.settings.write_batch_size))
        statements.append(("write/set_session_embeddings", {"rows": [  # count and scale: live adds keep the mean running
            {"id": sid, "embedding": vec, "turn_count": self._session_stats[sid][0], "embedding_scale": self._session_stats[sid][1]}
            for sid, vec in session_vectors.items()]}))
        for output in stage_outputs:
            statements.extend(output.statements)
        new_vectors: dict[str, tuple[list[str], np.ndarray]] = {
            "turn": ([t.id for t in new_turns], vectors),
            "session": (list(session_vectors), np.stack(list(session_vectors.values())) if session_vectors else np.zeros((0, vectors.shape[1]), np.float32)),
        }
        for output in stage_outputs:
            new_vectors.update(output.vectors)
        statements.append(writer_bump(self.namespace, self.caches, (i for ids, _ in new_vectors.values() for i in ids)))
        if self.caches is not None:
            # open the indexes the commit adds to before it: one opened after it reads this
            # commit's vectors back from the store (LoCoMo dev: 0.1 s for the events of the first conversation)
            for unit, (ids, _) in new_vectors.items():
                if unit in INDEXED_UNITS and len(ids):
                    self.caches.index(unit)
        self._await_write(report)  # one transaction in flight at a time, in conversation order
        self._submit_write(statements, _InFlight(record.key, len(new_turns), len(existing), new_vectors, on_commit))
        report.add_time("write", time.perf_counter() - t0)  # planning and preparing the statements
        return units

    def _live(self):
        """The live writer that applies corrections found in a re-ingested file."""
        if self._writer is None:
            from graphmem.ingest.live import LiveWriter

            self._writer = LiveWriter(self.store, self.embedder, self.settings, self.namespace, caches=self.caches, save_indexes=True)
            self._writer.use_zone(self.tz)
        return self._writer

    def _existing_turn_ids(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for batch in chunked(ids, self.settings.write_batch_size):
            found.update(r["id"] for r in self.store.read("read/existing_turn_ids", {"ids": list(batch), "namespace": self.namespace}))
        return found

    def _session_vectors(self, sessions, session_ids, turns, turn_vectors) -> dict[str, np.ndarray]:
        """Normalised mean of every turn embedding of each touched session (stored + new)."""
        out: dict[str, np.ndarray] = {}
        stored: dict[str, list[np.ndarray]] = {}
        partial = [session_ids[s.key] for s in sessions if any(t.session is s and t.id not in turn_vectors for t in turns)]
        if partial:
            for row in self.store.read("read/session_turn_embeddings", {"ids": partial, "namespace": self.namespace}):
                stored.setdefault(row["session_id"], []).append(stored_vector(row["embedding"], row["id"], self.embedder.dimension))
        for s in sessions:
            sid = session_ids[s.key]
            members = [turn_vectors[t.id] for t in turns if t.session is s and t.id in turn_vectors] + stored.get(sid, [])
            out[sid] = mean_vector(members)
            raw = np.asarray(members, dtype=np.float32).mean(axis=0)
            self._session_stats[sid] = (len(members), float(np.linalg.norm(raw)) or 1.0)
        return out

    def _turn_order(self, conversation_key: str, new_turns: list[PlannedTurn]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """The NEXT rows that put ``new_turns`` into their conversation's stored order, and the
        stored NEXT edges they now sit between (:func:`~graphmem.ingest.common.order_links`; one
        read of the conversation's stored turns through its index). Linking the file's turns to
        each other and stitching its first and last to their stored neighbours forked the chain
        where a file put a message after a stored one that a later stored session follows, or
        held some of a conversation's sessions but not those between them."""
        rows = self.store.read("read/conversation_turn_order", {"namespace": self.namespace, "keys": [conversation_key]})
        return order_links(((int(r["seq"]), r["id"]) for r in rows if r.get("seq") is not None),
                           {t.id: t.seq for t in new_turns})

