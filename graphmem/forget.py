"""Forgetting: remove chosen turns and everything derived only from them, in one transaction.

:func:`plan_forget` reads what the chosen turns touch and plans the writes;
``store.write(plan.statements)`` runs them in ONE transaction, so a failure or a crash
forgets nothing. What goes:

- the turns, and the events derived from them (their provenance is those turns);
- episodes whose turns are all forgotten; an episode that keeps some turns is recomputed
  from them (text, embedding, span), so forgotten words do not live on in it;
- sessions left without turns, conversations left without sessions; a session that keeps
  some turns gets its embedding and preview recomputed from them;
- every relationship of a deleted node (``ASSOCIATED``, ``IN_TOPIC``, ``INVOLVES``,
  ``NEXT``...); the conversation order is closed over the gap (``NEXT`` from the turn
  before to the turn after, and likewise for episodes);
- topics left without members;
- entities no remaining event involves, unless they are a speaker of a remaining turn or
  conversation, a remaining mention was resolved through them as an alias, or a remaining
  alias points at them. Entities still referenced elsewhere are kept. A kept canonical entity
  that no remaining event names by its own key (its name, e.g. "Beatrice Hargreave", was said
  only by forgotten messages; "Beatrice", its alias, is still said) gives way to its most used
  alias, which becomes canonical with the remaining mentions and aliases.

Derived caches (ANN indexes, lexical index, projection) and topic labels are not part of
the transaction. :meth:`graphmem.Memory.forget` deletes the saved caches first; a process
holding the namespace's caches in memory updates them from the plan (the removed units leave
the ANN indexes, the recomputed episodes and sessions are replaced, the next search re-reads
the forgotten turns' sessions), and the topics are then refitted or relabelled where a
forgotten word or unit demands it (:meth:`graphmem.ingest.clustering.ClusteringStage.after_forget`).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

import numpy as np


from graphmem.errors import InputError, StorageError, reject_lone_surrogates
from graphmem.extract.resolve import normalise_name
from graphmem.ids import node_id
from graphmem.records import META_PREFIX
from graphmem.index import stored_vector
from graphmem.ingest.common import MAX_EPISODE_TEXT, indexed_text, mean_vector, session_preview, time_span
from graphmem.store import GraphStore, Statement, chunked
from graphmem.timezones import to_stored

__all__ = ["ForgetPlan", "ForgetSelection", "plan_forget", "parse_before", "entities_left_unused", "entities_after",
           "entity_statements"]

logger = logging.getLogger(__name__)

TOPIC_UNITS = {"turns": "forget/topics_of_turns", "events": "forget/topics_of_events",
               "episodes": "forget/topics_of_episodes", "sessions": "forget/topics_of_sessions"}


def parse_before(value: object, tz: tzinfo | None = None) -> str | None:
    """ISO 8601 text of a ``before`` bound, as the store keeps times (naive UTC).

    Args:
        value: ``None``, a :class:`datetime`, a :class:`date` (midnight) or ISO 8601 text;
            without an offset, a wall-clock time in ``tz`` (``None``: UTC).

    Raises:
        InputError: anything else, or text that is not ISO 8601.
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"before: not an ISO 8601 date or time: {value!r} (e.g. 2024-05-01 or 2024-05-01T12:00)") from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise InputError(f"before: expected a date, datetime or ISO 8601 text, got {type(value).__name__}")
    try:
        return to_stored(value, tz).isoformat()
    except (OverflowError, ValueError):
        raise InputError(f"before: {value.isoformat()!r} is outside the years 1-9999 in UTC") from None


@dataclass(frozen=True)
class ForgetSelection:
    """Which turns to forget: every given criterion must hold.

    Attributes:
        conversation: a conversation key (as ingested, e.g. a LoCoMo ``sample_id``).
        session: a session key within ``conversation`` (required with it).
        before: ISO 8601 text; turns said before it (turn time, else session start).
        turns: turn ids.
        metadata: ``(key, value)`` pairs a turn's message metadata must all hold (one user's
            messages in a shared namespace), compared as :meth:`Memory.search`'s filter compares.
    """

    conversation: str | None = None
    session: str | None = None
    before: str | None = None
    turns: tuple[str, ...] | None = None
    metadata: tuple[tuple[str, object], ...] | None = None

    @classmethod
    def of(cls, conversation: object = None, session: object = None, before: object = None,
           turns: object = None, tz: tzinfo | None = None, metadata: object = None) -> "ForgetSelection":
        """Validate the arguments of :meth:`graphmem.Memory.forget` (``before`` without an
        offset is a wall-clock time in ``tz``, the memory's time zone; ``None``: UTC).

        Raises:
            InputError: nothing chosen, a session without its conversation, an empty metadata
                mapping (it would choose every turn), or a bad value.
        """
        from graphmem.loaders.chat import metadata_pairs

        pairs = metadata_pairs(metadata, "metadata", null=False) if metadata is not None else None
        if pairs is not None and not pairs:
            raise InputError("metadata: give at least one key: value (an empty mapping would choose every message)")
        reject_lone_surrogates(dict(pairs or ()), "metadata")
        for name, value in (("conversation", conversation), ("session", session)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise InputError(f"{name}: expected a non-empty key, got {value!r}")
        if session is not None and conversation is None:
            raise InputError("session: a session key needs its conversation (session keys repeat across conversations)")
        turn_ids: tuple[str, ...] | None = None
        if turns is not None:
            items = [turns] if isinstance(turns, str) else turns
            if not isinstance(items, (list, tuple, set, frozenset)) or not items:
                raise InputError(f"turn: expected a turn id or a non-empty list of them, got {turns!r}")
            for position, item in enumerate(items):
                if not isinstance(item, str) or not item.strip():
                    raise InputError(f"turn[{position}]: expected a turn id (Hit.node_id, AddReport.turn_ids), got {item!r}")
            turn_ids = tuple(dict.fromkeys(items))
        reject_lone_surrogates({"conversation": conversation, "session": session, "turn": list(turn_ids or ())}, "")
        selection = cls(conversation, session, parse_before(before, tz), turn_ids, pairs)  # type: ignore[arg-type]
        if selection.conversation is None and selection.before is None and selection.turns is None and pairs is None:
            raise InputError("say what to forget: turns by id, a conversation (and optionally a session), a date "
                             "before which to forget, message metadata, or several; to delete a whole namespace use "
                             "Memory.drop_namespace() (graphmem drop)")
        return selection

    def to_params(self) -> dict[str, Any]:
        """Query parameters of ``forget/find_turns``."""
        return {"conversation": self.conversation, "session": self.session, "before": self.before,
                "ids": list(self.turns) if self.turns is not None else None,
                "metadata": [[f"{META_PREFIX}{key}", value] for key, value in self.metadata] if self.metadata else None}


@dataclass
class ForgetPlan:
    """What a forget will do: the statements of its one transaction, and counts.

    Attributes:
        statements: to run with ``store.write`` (one transaction).
        counts: nodes removed per kind, and episodes/sessions recomputed.
        turn_ids: the forgotten turns.
    """

    statements: list[Statement] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    turn_ids: list[str] = field(default_factory=list)
    #: ids of every unit deleted: turns, events, and the episodes and sessions left empty
    removed: list[str] = field(default_factory=list)
    #: ``{"replace:episode"|"replace:session": (ids, vectors)}``: the recomputed embeddings
    #: of episodes and sessions that keep some turns (as :data:`graphmem.caches.Vectors`)
    replaced: dict[str, tuple[list[str], np.ndarray]] = field(default_factory=dict)
    #: the sessions the forgotten turns were in (every write stays within them and their units)
    sessions: list[str] = field(default_factory=list)
    #: what was said that is forgotten: the turns' texts, captions and speakers, the events' texts,
    #: and those of the turns' earlier versions (corrected-away texts, deleted with them)
    texts: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when no turn matched."""
        return not self.turn_ids


def _ids(rows: list[dict[str, Any]], column: str = "id") -> list[str]:
    return list(dict.fromkeys(r[column] for r in rows if r.get(column) is not None))


def _chain_gaps(rows: list[dict[str, Any]], deleted: set[str]) -> list[dict[str, str]] | None:
    """The NEXT links that join the chain around each run of ``deleted`` items, from each item's
    neighbours (``forget/*_neighbours`` rows); ``None`` where the chain there is damaged: an
    item with two neighbours on one side, a link that does not go forward in the sequence, or a
    deleted item the rows do not give."""
    seq: dict[str, Any] = {}
    before: dict[str, str | None] = {}
    after: dict[str, str | None] = {}
    for row in rows:
        item = row["id"]
        seq[item] = row.get("seq")
        for side, store in (("before", before), ("after", after)):
            near = [n for n in row.get(side) or () if n is not None]
            if len(near) > 1:
                return None
            store[item] = near[0]["id"] if near else None
            if near:
                seq.setdefault(near[0]["id"], near[0].get("seq"))
    if set(before) != deleted:
        return None
    for item in deleted:
        for first, second in ((before[item], item), (item, after[item])):
            if first is not None and second is not None and not (isinstance(seq.get(first), int) and isinstance(seq.get(second), int)
                                                                 and seq[first] < seq[second]):
                return None
    links = []
    for start in sorted(deleted):
        if before[start] in deleted:
            continue  # not the first of its run
        end = start
        while after[end] in deleted:  # every link goes forward in the sequence: the walk ends
            end = after[end]  # type: ignore[assignment]
        previous, following = before[start], after[end]
        if previous is not None and following is not None:
            links.append({"src": previous, "dst": following})
    return links


def _kept_vectors(rows: list[dict[str, Any]]) -> list[np.ndarray]:
    """The stored embeddings of the turns a forget keeps in an episode or session. Raises
    :class:`~graphmem.errors.StorageError` naming a malformed one (see
    :func:`~graphmem.index.stored_vector`), or the ones of another length than most (all of
    them when no length is the most common): the write changes nothing."""
    vectors = [stored_vector(r["embedding"], r["id"]) for r in rows]
    lengths = Counter(len(v) for v in vectors).most_common()
    if len(lengths) > 1:
        usual = lengths[0][0] if lengths[0][1] > lengths[1][1] else None
        odd = [r["id"] for r, v in zip(rows, vectors) if len(v) != usual]
        raise StorageError(f"{', '.join(odd[:5])}: stored embedding(s) of another length than the other turns' of their "
                           "episode or session; nothing was written. graphmem check names such damage; correct or forget "
                           "that message to repair it")
    return vectors


def _moved_start(first: dict[str, Any], first_kept: dict[str, Any], forgotten: set[str]) -> dict[str, Any]:
    """A session's ``started_at`` (and ``date_text``, where it was that time's text) moved to its
    first kept turn's time when it was its forgotten first turn's time (a session started by its
    first message, as a live add starts one, not by a date given for it): the start must not keep
    a forgotten message's time. Empty when nothing moves (as a correction moves it, see
    :meth:`graphmem.ingest.live.LiveWriter`)."""
    started, was, now = first.get("started_at"), first.get("time"), first_kept.get("time")
    if first["id"] not in forgotten or started is None or was is None or now is None or started != was:
        return {}
    return {"started_at": now, **({"date_text": now} if first.get("date_text") == started else {})}


class _Planner:
    def __init__(self, store: GraphStore, namespace: str, batch_size: int) -> None:
        self.store = store
        self.namespace = namespace
        self.batch_size = batch_size
        #: conversation id -> its speaker list as the plan leaves it (see :meth:`silenced`)
        self.speakers_now: dict[str, list[str]] = {}
        #: ``{alias_id, canonical_id}``: aliases :meth:`entities` makes canonical in their
        #: canonical's place (see :func:`entity_statements`)
        self.promoted: list[dict[str, str]] = []

    def read(self, name: str, **params: Any) -> list[dict[str, Any]]:
        return self.store.read(name, {"namespace": self.namespace, **params})

    def conversation_speakers(self) -> list[dict[str, Any]]:
        """Each conversation's ``id`` and ``speakers``, as the plan leaves them (:attr:`speakers_now`)."""
        return [dict(row, speakers=self.speakers_now.get(row["id"], row.get("speakers")))
                for row in self.read("forget/conversation_speakers")]

    def silenced(self, turns: list[dict[str, Any]], deleted_conversations: set[str]) -> list[dict[str, Any]]:
        """Rows ``{id, speakers}`` of the kept conversations whose speaker list loses a speaker once
        ``turns`` go (one who says nothing else there: a conversation lists who speaks in it, so a
        forgotten user's name does not stay behind, listed and kept as an entity); they also become
        :attr:`speakers_now`, which the entity planning reads."""
        forgotten: dict[tuple[str, str], set[str]] = defaultdict(set)
        for row in turns:
            if isinstance(row.get("speaker"), str) and row.get("conversation") is not None:
                forgotten[(str(row["conversation"]), row["speaker"])].add(row["id"])
        gone: dict[str, set[str]] = defaultdict(set)
        for (conversation, speaker), ids in sorted(forgotten.items()):
            conversation_id = node_id(self.namespace, "conversation", conversation)
            if conversation_id in deleted_conversations:
                continue
            if says_nothing_else(self.store, self.namespace, conversation, speaker, ids):
                gone[conversation_id].add(speaker)
        if not gone:
            return []
        rows = [{"id": row["id"], "speakers": [n for n in row.get("speakers") or () if n not in gone[row["id"]]]}
                for row in self.conversation_speakers() if row["id"] in gone]
        self.speakers_now = {row["id"]: row["speakers"] for row in rows}
        return rows

    def read_batched(self, name: str, ids: list[str], **params: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for batch in chunked(ids, self.batch_size):
            rows.extend(self.read(name, ids=list(batch), **params))
        return rows

    def statements(self, name: str, key: str, values: list[Any], **params: Any) -> list[Statement]:
        return [(name, {"namespace": self.namespace, key: list(batch), **params}) for batch in chunked(values, self.batch_size)]

    # ------------------------------------------------------------------ structure
    def episodes(self, turn_ids: set[str]) -> tuple[list[str], list[dict[str, Any]]]:
        """Episodes to delete, and rows recomputing those that keep some turns."""
        members: dict[str, list[dict[str, Any]]] = {}
        for row in self.read_batched("forget/episode_members", sorted(turn_ids)):
            members.setdefault(row["episode"], []).append(row)
        deleted, updates = [], []
        for episode, rows in members.items():
            kept = sorted((r for r in rows if r["id"] not in turn_ids), key=lambda r: r["seq"])
            if not kept:
                deleted.append(episode)
                continue
            text = "\n".join(indexed_text(r["speaker"], r["text"], r.get("caption")) for r in kept)
            started_at, ended_at = time_span(r["time"] for r in kept)
            updates.append({"id": episode, "props": {
                "text": text[:MAX_EPISODE_TEXT], "embedding": mean_vector(_kept_vectors(kept)),
                "start_seq": kept[0]["seq"], "end_seq": kept[-1]["seq"], "turn_count": len(kept),
                "started_at": started_at, "ended_at": ended_at}})
        return sorted(deleted), updates

    def sessions(self, session_ids: list[str], turn_ids: set[str]) -> tuple[list[str], list[dict[str, Any]]]:
        """Sessions to delete, and rows recomputing those that keep some turns."""
        members: dict[str, list[dict[str, Any]]] = {}
        for row in self.read_batched("forget/session_members", session_ids):
            members.setdefault(row["session"], [])
            if row.get("id") is not None:
                members[row["session"]].append(row)
        deleted, updates = [], []
        for session, rows in members.items():
            kept = sorted((r for r in rows if r["id"] not in turn_ids), key=lambda r: r["seq"])
            if not kept:
                deleted.append(session)
                continue
            vectors = _kept_vectors(kept)
            raw = np.asarray(vectors, dtype=np.float32).mean(axis=0)
            props = {"embedding": mean_vector(vectors), "turn_count": len(kept),
                     "embedding_scale": float(np.linalg.norm(raw)) or 1.0,  # live adds keep a running mean from these
                     "preview": session_preview((r["speaker"], r["text"]) for r in kept)}
            props.update(_moved_start(sorted(rows, key=lambda r: r["seq"])[0], kept[0], turn_ids))
            updates.append({"id": session, "props": props})
        return sorted(deleted), updates

    def conversations(self, conversation_ids: list[str], deleted_sessions: set[str]) -> list[str]:
        """Conversations left without a session."""
        sessions: dict[str, set[str]] = {}
        for row in self.read_batched("forget/conversation_sessions", conversation_ids):
            sessions.setdefault(row["conversation"], set())
            if row.get("session") is not None:
                sessions[row["conversation"]].add(row["session"])
        return sorted(c for c, s in sessions.items() if not (s - deleted_sessions))

    def gaps(self, kind: str, keys: list[str], deleted: set[str]) -> list[dict[str, str]]:
        """NEXT links from the item before a forgotten run to the item after it, per conversation
        (``kind``: ``"turn"`` or ``"episode"``).

        Found along the NEXT chain from the forgotten items (``forget/{kind}_neighbours``): a
        read of the conversation's every item took 1.3 s for one conversation of 100,000 turns,
        since the database loads each record to filter it. Where the chain around them forks or
        goes back in the sequence (damage ``graphmem check`` names), the links come from the
        conversation's order instead, as they did before."""
        if not deleted:
            return []
        rows = self.read_batched(f"forget/{kind}_neighbours", sorted(deleted))
        links = _chain_gaps(rows, deleted)
        if links is not None:
            return links
        logger.warning("the NEXT chain around forgotten %ss is damaged (a fork, or an edge back in the order); joining it by sequence instead", kind)
        return self._sequence_gaps(f"read/conversation_{kind}_order", keys, deleted)

    def _sequence_gaps(self, name: str, keys: list[str], deleted: set[str]) -> list[dict[str, str]]:
        """:meth:`gaps` by each conversation's items in sequence order (read whole)."""
        by_conversation: dict[str, list[tuple[int, str]]] = {}
        for row in self.store.read(name, {"namespace": self.namespace, "keys": keys}):
            by_conversation.setdefault(row["conversation"], []).append((row["seq"] if row["seq"] is not None else -1, row["id"]))
        links = []
        for items in by_conversation.values():
            items.sort()
            previous: str | None = None
            gap = False
            for _, item in items:
                if item in deleted:
                    gap = True
                    continue
                if previous is not None and gap:
                    links.append({"src": previous, "dst": item})
                previous, gap = item, False
        return links

    # ------------------------------------------------------------------ entities and topics
    def entities(self, event_ids: list[str], forgotten_turns: list[dict[str, Any]],
                 deleted_conversations: set[str]) -> list[str]:
        """Entities nothing uses once the events are gone (see the module doc)."""
        candidates = set(_ids(self.read_batched("forget/entities_of_events", event_ids)))
        speakers = [r["speaker"] for r in forgotten_turns if isinstance(r.get("speaker"), str)]
        if deleted_conversations:  # and everyone a deleted conversation lists: a speaker whose turns
            # were all corrected to another speaker has no turn left to name it
            speakers += [n for row in self.conversation_speakers() if row["id"] in deleted_conversations
                         for n in row.get("speakers") or () if isinstance(n, str)]
        candidates.update(node_id(self.namespace, "entity", key) for key in {normalise_name(n) for n in speakers} if key)
        usage: dict[str, dict[str, Any]] = {}
        frontier = sorted(candidates)
        while frontier:  # close the candidates over ALIAS_OF, both ways
            for batch in chunked(frontier, self.batch_size):
                for row in self.read("forget/entity_usage", ids=list(batch), events=event_ids):
                    usage[row["id"]] = row
            frontier = sorted({n for row in usage.values() for n in [*row["canonicals"], *row["aliases"]]} - set(usage))
        unused = {n for n, row in usage.items() if not row["involved"] and not row["surface_uses"]}
        nameless = {n for n, row in usage.items() if not row["own"] and not row["canonicals"] and row["aliases"]}
        if not unused and not nameless:
            return []
        still = self._still_speakers({usage[n]["key"] for n in unused | nameless}, forgotten_turns, deleted_conversations)
        deleted = {n for n in unused if usage[n]["key"] not in still}
        changed = True
        while changed:  # an entity that a kept alias points at is kept
            changed = False
            for n in sorted(deleted):
                if any(a not in deleted for a in usage[n]["aliases"]):
                    deleted.discard(n)
                    changed = True
        self.promoted = []
        for n in sorted(nameless - deleted):
            # a canonical kept only for what its aliases name: no remaining message says its own
            # name, which may be a forgotten one ("Beatrice Hargreave" when only "Beatrice" is left),
            # so the alias most used becomes the canonical entity (move_mentions_to_alias)
            if usage[n]["key"] in still:
                continue
            kept = [a for a in usage[n]["aliases"] if a not in deleted and a in usage and usage[a]["surface_uses"]]
            if kept:
                best = min(kept, key=lambda a: (-int(usage[a]["surface_uses"]), str(usage[a]["key"])))
                self.promoted.append({"alias_id": best, "canonical_id": n})
        return sorted(deleted)

    def _still_speakers(self, keys: set[str], forgotten_turns: list[dict[str, Any]], deleted_conversations: set[str]) -> set[str]:
        """Those of the entity ``keys`` that remain a speaker: of a conversation kept, or of a
        turn kept. A forgotten turn's speaker is looked up by name first (a few of that
        speaker's turns); only a key neither finds reads every speaker's turn count (every
        turn of the namespace: 0.6 s at 100,000 turns), which also catches other spellings."""
        still: set[str] = set()
        for row in self.conversation_speakers():
            if row["id"] not in deleted_conversations:
                still.update(key for key in (normalise_name(n) for n in row.get("speakers") or () if isinstance(n, str)) if key in keys)
        forgotten: dict[str, set[str]] = defaultdict(set)
        for row in forgotten_turns:
            if isinstance(row.get("speaker"), str) and normalise_name(row["speaker"]) in keys - still:
                forgotten[row["speaker"]].add(row["id"])
        for name, ids in sorted(forgotten.items()):
            found = self.read("forget/turns_of_speaker", speaker=name, limit=len(ids) + 1)
            if any(r["id"] not in ids for r in found):
                still.add(normalise_name(name))
        unknown = keys - still
        if unknown:
            still |= unknown & self._speakers_of_kept_turns(forgotten_turns)
        return still

    def _speakers_of_kept_turns(self, forgotten_turns: list[dict[str, Any]]) -> set[str]:
        """Normalised names of every speaker with a turn left once ``forgotten_turns`` go
        (counts every speaker's turns: reads every turn of the namespace)."""
        forgotten: dict[str, int] = {}
        for row in forgotten_turns:
            forgotten[row["speaker"]] = forgotten.get(row["speaker"], 0) + 1
        names = [r["speaker"] for r in self.read("forget/speaker_turn_counts")
                 if int(r["turns"]) > forgotten.get(r["speaker"], 0)]
        return {normalise_name(n) for n in names if isinstance(n, str)}

    def topics(self, units: dict[str, list[str]]) -> list[str]:
        """Topics whose members are all among the deleted ``units`` (kind -> ids)."""
        lost: dict[str, int] = {}
        for kind, ids in units.items():
            for row in self.read_batched(TOPIC_UNITS[kind], ids):
                lost[row["id"]] = lost.get(row["id"], 0) + int(row["members"])
        if not lost:
            return []
        sizes = {r["id"]: int(r["members"]) for r in self.read_batched("forget/topic_sizes", sorted(lost))}
        return sorted(t for t, n in lost.items() if sizes.get(t, 0) <= n)


def says_nothing_else(store: GraphStore, namespace: str, conversation: str, speaker: str, turn_ids: set[str]) -> bool:
    """Whether ``speaker`` says nothing in ``conversation`` (its key) but the turns ``turn_ids``
    (forgotten, or corrected to name another speaker): then the conversation no longer lists them."""
    left = store.read("forget/conversation_turns_of_speaker", {"namespace": namespace, "conversation_id": conversation,
                                                               "speaker": speaker, "limit": len(turn_ids) + 1})
    return all(r["id"] in turn_ids for r in left)


def entity_statements(namespace: str, deleted: list[str], promoted: list[dict[str, str]]) -> list[Statement]:
    """The statements that delete the entities ``deleted`` and make each alias of ``promoted``
    (``{alias_id, canonical_id}``) canonical in its canonical's place: its canonical's remaining
    mentions and other aliases move to it, and the old canonical, whose name no remaining message
    says, goes. Each runs after the events it concerns are deleted or merged; each statement checks
    again inside the transaction (see ``forget/delete_entities`` and ``forget/move_mentions_to_alias``)."""
    statements: list[Statement] = []
    if deleted:  # one statement: its in-transaction guard looks at the whole set
        statements.append(("forget/delete_entities", {"namespace": namespace, "ids": list(deleted)}))
    if promoted:
        statements += [(name, {"namespace": namespace, "rows": list(promoted)}) for name in
                       ("forget/move_mentions_to_alias", "forget/move_aliases_to_alias", "forget/promote_aliases")]
    return statements


def entities_left_unused(store: GraphStore, namespace: str, event_ids: list[str], batch_size: int = 2000,
                         speakers_now: dict[str, list[str]] | None = None,
                         respoken: list[dict[str, Any]] | None = None) -> list[str]:
    """Entities that nothing would use once the Events ``event_ids`` are gone (a corrected
    turn's old events): the rules of :func:`plan_forget`, with the turns ``respoken`` (``{id,
    speaker}``: corrected to name another speaker) no longer said by that speaker, as if
    forgotten, and the conversations' speaker lists as ``speakers_now`` gives them
    (conversation id -> speakers: what the correction writes)."""
    return entities_after(store, namespace, event_ids, batch_size, speakers_now, respoken)[0]


def entities_after(store: GraphStore, namespace: str, event_ids: list[str], batch_size: int = 2000,
                   speakers_now: dict[str, list[str]] | None = None,
                   respoken: list[dict[str, Any]] | None = None) -> tuple[list[str], list[dict[str, str]]]:
    """:func:`entities_left_unused`, and the aliases to promote (``{alias_id, canonical_id}``):
    of the canonical entities that no remaining event would name by their own key, kept only for
    what their aliases name (see :func:`entity_statements`)."""
    planner = _Planner(store, namespace, batch_size)
    planner.speakers_now = dict(speakers_now or {})
    deleted = planner.entities(event_ids, list(respoken or ()), set())
    return deleted, planner.promoted


def plan_forget(store: GraphStore, namespace: str, selection: ForgetSelection, batch_size: int = 2000) -> ForgetPlan:
    """Read what forgetting ``selection`` touches in ``namespace`` and plan its one transaction.

    Args:
        store: an open store.
        namespace: the tenant; every statement is scoped to it.
        selection: the turns to forget.
        batch_size: ids per statement.

    Returns:
        A :class:`ForgetPlan` (empty when no turn matches).
    """
    planner = _Planner(store, namespace, batch_size)
    params = selection.to_params()
    turns = (planner.read("forget/find_turns_by_id", **params) if selection.turns is not None
             else planner.read("forget/find_turns", **{k: v for k, v in params.items() if k != "ids"}))
    plan = ForgetPlan(turn_ids=_ids(turns))
    keys = ("turns", "events", "episodes", "sessions", "conversations", "entities", "topics", "episodes_updated", "sessions_updated")
    plan.counts = dict.fromkeys(keys, 0)
    if plan.empty:
        return plan
    turn_ids = set(plan.turn_ids)
    events = planner.read_batched("forget/events_of_turns", plan.turn_ids)
    event_ids = _ids(events)
    episodes, episode_updates = planner.episodes(turn_ids)
    sessions, session_updates = planner.sessions(_ids(turns, "session_id"), turn_ids)
    conversation_keys = sorted({r["conversation"] for r in turns if r.get("conversation") is not None})
    conversations = planner.conversations([node_id(namespace, "conversation", key) for key in conversation_keys], set(sessions))
    speakers = planner.silenced(turns, set(conversations))
    entities = planner.entities(event_ids, turns, set(conversations))
    topics = planner.topics({"turns": plan.turn_ids, "events": event_ids, "episodes": episodes, "sessions": sessions})
    turn_links = planner.gaps("turn", conversation_keys, turn_ids)
    episode_links = planner.gaps("episode", conversation_keys, set(episodes))

    s = plan.statements
    s += planner.statements("forget/delete_events", "ids", event_ids)
    s += planner.statements("forget/delete_turn_versions", "ids", plan.turn_ids)
    s += planner.statements("forget/delete_turns", "ids", plan.turn_ids)
    s += planner.statements("forget/delete_episodes", "ids", episodes)
    s += planner.statements("forget/update_episodes", "rows", episode_updates)
    s += planner.statements("forget/delete_sessions", "ids", sessions)
    s += planner.statements("forget/update_sessions", "rows", session_updates)
    s += planner.statements("forget/delete_conversations", "ids", conversations)
    if speakers:
        s.append(("write/update_conversation_speakers", {"namespace": namespace, "rows": speakers}))
    s += planner.statements("forget/link_turns", "rows", turn_links)
    s += planner.statements("forget/link_episodes", "rows", episode_links)
    s += entity_statements(namespace, entities, planner.promoted)
    s += planner.statements("forget/delete_topics", "ids", topics)
    plan.removed = [*plan.turn_ids, *event_ids, *episodes, *sessions]
    for unit, updates in (("episode", episode_updates), ("session", session_updates)):
        if updates:
            plan.replaced[f"replace:{unit}"] = ([r["id"] for r in updates],
                                                np.asarray([r["props"]["embedding"] for r in updates], dtype=np.float32))
    plan.sessions = _ids(turns, "session_id")
    versions = planner.read_batched("forget/versions_of_turns", plan.turn_ids)  # a corrected turn's earlier texts go too
    plan.texts = [text for r in [*turns, *events, *versions] for text in (r.get("text"), r.get("caption"), r.get("speaker"))
                  if isinstance(text, str) and text]
    plan.counts.update(turns=len(plan.turn_ids), events=len(event_ids), episodes=len(episodes), sessions=len(sessions),
                       conversations=len(conversations), entities=len(entities) + len(planner.promoted), topics=len(topics),
                       episodes_updated=len(episode_updates), sessions_updated=len(session_updates))
    logger.info("forget in namespace %r planned: %s", namespace, plan.counts)
    return plan
