"""The projection after a write confined to some sessions, made from the one before it.

:meth:`~graphmem.retrieve.loader.ProjectionRows.refreshed` reads again only the rows a live add
(or a forget in some sessions) can have changed, and keeps the others. Building the projection
from all of those rows again (:meth:`MemoryProjection.from_rows`) costs Python work for every
row: 0.7 s at 100,000 turns, at every search right after an add. :func:`patched` makes the same
projection, array for array, from the projection before the write:

* the units whose rows were read again (the sessions written, the turns the refresh read with
  their events and hyperedges, the episodes of those sessions) are built from their rows, as
  :meth:`~MemoryProjection.from_rows` builds them;
* every other unit keeps its columns; only the positions it holds (its session, episode, turn)
  move, by the units inserted or removed before them;
* entities, aliases and topics (one row each, few) are built from their rows again;
* the links (associations, topic memberships) of the units whose links were read again are
  replaced by the rows read, and so are the topic memberships of every unit of a granularity
  whose topics were fitted (:attr:`RowsChange.regrouped`); the others keep their weights, at
  their ends' new positions.

Units of one kind keep their order (sessions by conversation then number, turns by session then
``seq``, episodes by first turn, events by turn, entities and topics by id), so the units kept
stay in order, and each unit built goes where :meth:`~MemoryProjection.from_rows` would put it (a
binary search among the kept ones). When the rows do not fit what such a write can do (a turn of
an unknown session, a kept turn in an episode read again, a session whose start moved under
turns kept), :func:`patched` gives ``None`` and the caller builds the projection from the rows.
``tests/test_projection_patch.py`` compares the two after random writes, and
``tests/test_projection_delta.py`` compares the result with a projection read whole.
"""

from __future__ import annotations

import bisect
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from graphmem.retrieve.lexical import _carried_list
from graphmem.retrieve.projection import (
    NODE_KINDS, POSITIONS_FROM, MemoryProjection, _earliest, meta_code_column, _entity_columns, _episode_columns, _event_columns, _involves_arrays, _session_columns,
    _session_key, _topic_columns, _turn_columns, _turn_key, _weighted_pairs,
)

__all__ = ["RowsChange", "carried_units", "patched"]

_NO_TURN = 1 << 62  # the first-turn key of an episode without turns (from_rows sorts those last)
_TURN_NAMES = ("turn_ids", "turn_conversation", "turn_session", "turn_seq", "turn_speaker", "turn_text", "turn_source", "turn_meta", "turn_asks",
               "turn_time")
_EVENT_NAMES = ("event_ids", "event_turn", "event_text", "event_time", "event_span_start", "event_span_end")


@dataclass(frozen=True)
class RowsChange:
    """What a refresh read again (see :meth:`~graphmem.retrieve.loader.ProjectionRows.refreshed`).

    Attributes:
        sessions: the sessions written: their rows and their episodes' rows were read again.
        turns: the turns whose rows (and ``PART_OF``), events and hyperedges were read again or
            are gone; ``events``: those turns' events before the write and after.
        episodes: the episodes of those sessions before the write.
        linked: the units whose associations and topic memberships were read again.
        fresh_from: per table of rows, the index of its first row read again (the rows before
            it were kept as they were).
        regrouped: the granularities whose every topic membership was read again (a topic fit).
    """

    sessions: frozenset[str]
    turns: frozenset[str]
    events: frozenset[str]
    episodes: frozenset[str]
    linked: frozenset[str]
    fresh_from: Mapping[str, int] = field(default_factory=dict)
    regrouped: frozenset[str] = frozenset()


def patched(old: MemoryProjection, rows: Mapping[str, Sequence[Mapping[str, Any]]], change: RowsChange) -> MemoryProjection | None:
    """The projection :meth:`MemoryProjection.from_rows` builds from ``rows``, made from ``old``
    (the projection of the rows before the refresh ``change`` describes); ``None`` when the rows
    do not fit such a refresh."""
    return _Patch(old, rows, change).run()


class _Patch:
    def __init__(self, old: MemoryProjection, rows: Mapping[str, Sequence[Mapping[str, Any]]], change: RowsChange) -> None:
        self.old, self.rows, self.change = old, rows, change
        self.p = MemoryProjection()
        self.carried: dict[str, np.ndarray] = {}  # per kind: each old unit's new position, -1 where read again or gone

    def fresh(self, table: str) -> Sequence[Mapping[str, Any]]:
        """The rows of ``table`` read again."""
        return self.rows[table][self.change.fresh_from.get(table, 0):]

    def run(self) -> MemoryProjection | None:
        old, p, change = self.old, self.p, self.change
        if (old.turn_session < 0).any():
            return None  # a turn of an unknown session: its place may change with the sessions

        # ---- sessions: the written ones from their rows, the others kept (by conversation, number)
        conversation_of = {str(r["id"]): str(r.get("conversation_id") or "") for r in self.rows["sessions"]}
        session_in = _named(old, "session", change.sessions)
        kept = np.flatnonzero(~session_in)
        if any(old.session_ids[i] not in conversation_of for i in kept.tolist()):
            return None  # a session not written is gone
        fresh = sorted((r for r in self.rows["sessions"] if str(r["id"]) in change.sessions), key=_session_key)
        at = _insertion(lambda i: (conversation_of[old.session_ids[int(kept[i])]], int(old.session_number[kept[i]]),
                                   old.session_ids[int(kept[i])]), len(kept), [_session_key(r) for r in fresh])
        columns = _session_columns(fresh)
        session_map, session_fresh = self.splice(("session_ids", "session_key", "session_number", "session_time"), kept, at, columns)
        self.moved_by_id(session_map, session_in, old.session_ids, dict(zip(columns["session_ids"], session_fresh.tolist())))
        session_pos = dict(zip(p.session_ids, range(len(p.session_ids))))

        # ---- turns: those read again from their rows, the others kept (by session, then seq)
        turn_in = np.isin(old.turn_session, np.flatnonzero(session_in))  # the turns of the sessions written
        scope_turns = np.flatnonzero(turn_in)
        gone = np.zeros(old.n_turns, dtype=bool)
        gone[scope_turns] = [old.turn_ids[i] in change.turns for i in scope_turns.tolist()]
        kept = np.flatnonzero(~gone)
        kept_sessions = session_map[old.turn_session[kept]]
        if (kept_sessions < 0).any():
            return None  # a turn kept in a session gone
        # a kept turn of a written session took its session's start as its time: it must not have moved
        stayed = old.turn_session[scope_turns[~gone[scope_turns]]]
        if len(stayed) and not np.array_equal(old.session_time[stayed], p.session_time[session_map[stayed]], equal_nan=True):
            return None
        fresh = sorted(self.fresh("turns"), key=lambda r: _turn_key(r, session_pos))
        if any(str(r.get("session_id")) not in session_pos for r in fresh):
            return None
        at = _insertion(lambda j: (old.turn_conversation[int(kept[j])], int(kept_sessions[j]), int(old.turn_seq[kept[j]]),
                                   old.turn_ids[int(kept[j])]), len(kept), [_turn_key(r, session_pos) for r in fresh])
        columns = _turn_columns(fresh, session_pos, p.session_time)
        turn_map, turn_fresh = self.splice(_TURN_NAMES, kept, at, columns, moved={"turn_session": session_map})
        self.carried["turn"] = turn_map.copy()  # the turns kept, with their texts (the others are read again)
        self.carry_turn_values(kept, at, turn_fresh, self.carried["turn"])
        fresh_turn_ids = columns["turn_ids"]
        turn_pos_fresh = dict(zip(fresh_turn_ids, turn_fresh.tolist()))
        if len(turn_pos_fresh) != len(fresh) or not change.turns.issuperset(turn_pos_fresh):
            return None  # a turn id twice, or a turn read again the change does not name
        self.moved_by_id(turn_map, gone, old.turn_ids, turn_pos_fresh)
        kept_t = kept

        # ---- episodes: those of the written sessions from their rows (by first turn), the others kept
        episode_gone = _named(old, "episode", change.episodes)
        kept_turn_episode = old.turn_episode[kept_t]
        outside = old.turn_episode[kept_t[~turn_in[kept_t]]]
        if episode_gone[outside[outside >= 0]].any():
            return None  # a turn of an unwritten session in an episode read again
        fresh_episodes = list(self.fresh("episodes"))
        fresh_ids = {str(r["id"]) for r in fresh_episodes}
        episode_of_turn = {str(r["turn_id"]): str(r["episode_id"]) for r in self.fresh("part_of") if str(r["turn_id"]) in turn_pos_fresh}
        # the turns kept in written sessions keep their episode (their PART_OF was not read again)
        stayed = kept_t[turn_in[kept_t]]
        first_turn = _earliest((old.episode_ids[e], int(turn_map[i])) for i, e in zip(stayed.tolist(), old.turn_episode[stayed].tolist())
                               if e >= 0 and episode_gone[e])
        _earliest(((eid, turn_pos_fresh[tid]) for tid, eid in episode_of_turn.items()), into=first_turn)
        if any(eid not in fresh_ids for eid in first_turn):
            return None  # a turn of a written session in an episode not read again
        kept = np.flatnonzero(~episode_gone)
        seg_starts, seg_ends = old.episode_segments
        has_turns = seg_ends[kept] > seg_starts[kept]
        first_kept = np.full(len(kept), _NO_TURN, dtype=np.int64)
        first_kept[has_turns] = turn_map[seg_starts[kept][has_turns]]

        def episode_key(r: Mapping[str, Any]) -> tuple[int, str]:
            return (first_turn.get(str(r["id"]), _NO_TURN), str(r["id"]))

        fresh_episodes.sort(key=episode_key)
        at = _insertion(lambda j: (int(first_kept[j]), old.episode_ids[int(kept[j])]), len(kept), [episode_key(r) for r in fresh_episodes])
        columns = _episode_columns(fresh_episodes)
        episode_map, episode_fresh = self.splice(("episode_ids", "episode_start", "episode_end"), kept, at, columns)
        self.carried["episode"] = episode_map.copy()
        episode_pos_fresh = dict(zip(columns["episode_ids"], episode_fresh.tolist()))
        if len(episode_pos_fresh) != len(fresh_episodes):
            return None
        self.moved_by_id(episode_map, episode_gone, old.episode_ids, episode_pos_fresh)
        turn_episode = np.full(len(p.turn_ids), -1, dtype=np.int64)
        in_episode = kept_turn_episode >= 0
        turn_episode[turn_map[kept_t[in_episode]]] = episode_map[kept_turn_episode[in_episode]]
        turn_episode[turn_fresh] = [episode_pos_fresh.get(episode_of_turn.get(t, ""), -1) for t in fresh_turn_ids]
        p.turn_episode = turn_episode
        p._episode_times_from_turns(episode_fresh.tolist())
        self.carry_episode_text(self.carried["episode"], episode_fresh)

        # ---- events: those of the turns read again from their rows, the others kept (by turn)
        event_gone = np.zeros(len(old.event_ids), dtype=bool)
        scope_events = np.flatnonzero(turn_in[old.event_turn]) if len(old.event_turn) else np.zeros(0, dtype=np.int64)
        event_gone[scope_events] = [old.event_ids[i] in change.events for i in scope_events.tolist()]
        if gone[old.event_turn[~event_gone]].any():
            return None  # an event kept of a turn read again
        kept = np.flatnonzero(~event_gone)
        fresh_events = self.fresh("events")
        if any(str(r.get("turn_id")) not in turn_pos_fresh for r in fresh_events):
            return None
        columns = _event_columns(fresh_events, turn_pos_fresh, p.turn_time)
        kept_turns = turn_map[old.event_turn[kept]]
        at = _insertion(lambda j: (int(kept_turns[j]), old.event_ids[int(kept[j])]), len(kept),
                        list(zip(columns["event_turn"].tolist(), columns["event_ids"])))
        event_map, event_fresh = self.splice(_EVENT_NAMES, kept, at, columns, moved={"event_turn": turn_map})
        event_pos_fresh = dict(zip(columns["event_ids"], event_fresh.tolist()))
        if len(event_pos_fresh) != len(columns["event_ids"]):
            return None
        self.moved_by_id(event_map, event_gone, old.event_ids, event_pos_fresh)

        # ---- entities and topics: built again (one row each); what is kept follows them by id
        p._set(_entity_columns(self.rows["entities"], self.rows["aliases"]))
        entity_pos = dict(zip(p.entity_ids, range(len(p.entity_ids))))
        entity_map = np.fromiter((entity_pos.get(e, -1) for e in old.entity_ids), dtype=np.int64, count=len(old.entity_ids))
        p._set(_topic_columns(self.rows["topics"]))
        topic_pos = dict(zip(p.topic_ids, range(len(p.topic_ids))))
        topic_map = np.fromiter((topic_pos.get(t, -1) for t in old.topic_ids), dtype=np.int64, count=len(old.topic_ids))

        # ---- hyperedges: the events read again from their rows, the others kept (no event in both)
        keep = ~event_gone[old.involves_event] if len(old.involves_event) else np.zeros(0, dtype=bool)
        event, entity, weight = event_map[old.involves_event[keep]], entity_map[old.involves_entity[keep]], old.involves_weight[keep]
        known = entity >= 0
        event, entity, weight = event[known], entity[known], weight[known]
        f_event, f_entity, f_weight = _involves_arrays(self.fresh("involves"), event_pos_fresh, entity_pos)
        at = np.searchsorted(event, f_event, side="left")
        p.involves_event, p.involves_entity, p.involves_weight = (np.insert(event, at, f_event), np.insert(entity, at, f_entity),
                                                                  np.insert(weight, at, f_weight))

        # ---- links between any nodes, at global positions
        offset, old_offset = p.node_offset, old.node_offset
        maps = {"turn": turn_map, "event": event_map, "episode": episode_map, "session": session_map, "entity": entity_map,
                "topic": topic_map}
        remap = np.concatenate([np.where(maps[kind] >= 0, maps[kind] + offset[kind], -1) for kind in NODE_KINDS]
                               + [np.zeros(0, dtype=np.int64)]).astype(np.int64)
        relinked = np.zeros(len(remap), dtype=bool)
        for kind, written in (("turn", gone), ("event", event_gone), ("episode", episode_gone), ("session", session_in)):
            ids = old.ids(kind)
            for i in np.flatnonzero(written).tolist():
                relinked[old_offset[kind] + i] = ids[i] in change.linked
        link_ends = _Ends(self, offset, {"turn": (turn_pos_fresh, turn_map), "event": (event_pos_fresh, event_map),
                                    "episode": (episode_pos_fresh, episode_map), "session": (session_pos, None),
                                    "entity": (entity_pos, None), "topic": (topic_pos, None)})
        p.assoc_src, p.assoc_dst, p.assoc_w = _relinked((old.assoc_src, old.assoc_dst, old.assoc_w), remap, remap, relinked,
                                                        self.fresh("associations"), ("src", "dst", "w"), link_ends, link_ends)
        regrouped = relinked.copy()  # a topic fit read every membership of its granularity again
        for kind in change.regrouped:
            regrouped[old_offset[kind]:old_offset[kind] + len(old.ids(kind))] = True
        p.member_src, p.member_topic, p.member_p = _relinked((old.member_src, old.member_topic, old.member_p), remap, topic_map,
                                                             regrouped, self.fresh("topic_members"), ("member", "topic", "p"),
                                                             link_ends, topic_pos)
        p.within_src, p.within_dst, p.within_w = _weighted_pairs(self.rows["topic_links"], ("src", "dst", "w"), topic_pos, topic_pos)
        p.__dict__.pop("node_offset", None)
        p.__dict__[_CARRIED] = (weakref.ref(old), self.carried)
        p.__dict__[POSITIONS_FROM] = (weakref.ref(old), maps)  # the position maps old made are carried, not made again
        for kind in old.position_maps_made():  # now, while old lives: the next patch looks its changes up in them
            p.position[kind]  # noqa: B018
        return p

    def splice(self, names: Sequence[str], kept: np.ndarray, at: np.ndarray, fresh: Mapping[str, Any],
               moved: Mapping[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Set the columns ``names`` on the new projection: the kept units' old values (the
        positions they hold through ``moved``) with the fresh units' inserted before the kept
        ones at ``at``; returns each old unit's new position (``-1``: not kept) and each fresh
        unit's."""
        old = self.old
        n_old = len(getattr(old, names[0]))
        new_of_kept = np.arange(len(kept), dtype=np.int64) + np.searchsorted(at, np.arange(len(kept)), side="right")
        old_map = np.full(n_old, -1, dtype=np.int64)
        old_map[kept] = new_of_kept
        for name in names:
            values, new = getattr(old, name), fresh[name]
            if isinstance(values, np.ndarray):
                kept_values = values[kept]
                if moved and name in moved:
                    kept_values = np.where(kept_values >= 0, moved[name][np.maximum(kept_values, 0)], -1)
                setattr(self.p, name, np.insert(kept_values, at, np.asarray(new, dtype=values.dtype)))
            else:
                setattr(self.p, name, _spliced_list(values, old_map, new))
        return old_map, at + np.arange(len(at), dtype=np.int64)

    def carry_turn_values(self, kept: np.ndarray, at: np.ndarray, fresh: np.ndarray, old_map: np.ndarray) -> None:
        """The values computed per turn from its own row alone that the old projection has (a
        search computes them at first use: 0.2-0.3 s per 100,000 turns to find the turns stating
        a span of time; the metadata filter's codes), for the kept turns theirs, for the fresh
        ones computed here."""
        old, p = self.old, self.p
        for name in ("turn_speaker_folded", "turn_by_assistant"):
            before = old.__dict__.get(name)
            if before is not None:
                made = MemoryProjection(turn_speaker=[p.turn_speaker[t] for t in fresh.tolist()])
                new = getattr(made, name)
                p.__dict__[name] = (np.insert(before[kept], at, new) if isinstance(before, np.ndarray)
                                    else _spliced_list(before, old_map, new))
        codes = old.__dict__.get("_meta_codes")
        if codes:
            fresh_meta = [p.turn_meta[t] for t in fresh.tolist()]
            p.__dict__["_meta_codes"] = {key: np.insert(values[kept], at, meta_code_column(fresh_meta, key))
                                         for key, values in codes.items()}
        stating = old.__dict__.get("_turns_stating")
        if stating:
            made = MemoryProjection(turn_text=[p.turn_text[t] for t in fresh.tolist()])
            p.__dict__["_turns_stating"] = {label: np.insert(values[kept], at, made.turns_stating(label))
                                            for label, values in stating.items()}

    def carry_episode_text(self, old_map: np.ndarray, fresh: np.ndarray) -> None:
        """The episodes' texts (for BM25: 0.11 s at 100,000 turns to join again) when the old
        projection has them: the kept episodes' are theirs, the fresh ones' are joined here."""
        before = self.old.__dict__.get("episode_text")
        if before is None:
            return
        p = self.p
        texts = ["\n".join(p.turn_text[t] for t in np.flatnonzero(p.turn_episode == e).tolist()) for e in fresh.tolist()]
        p.__dict__["episode_text"] = _spliced_list(before, old_map, texts)

    @staticmethod
    def moved_by_id(old_map: np.ndarray, gone: np.ndarray, ids: Sequence[str], fresh: Mapping[str, int]) -> None:
        """Complete ``old_map`` for the old units not kept: a unit read again is where its id
        now is (``-1``: gone)."""
        for i in np.flatnonzero(gone).tolist():
            old_map[i] = fresh.get(ids[i], -1)


_CARRIED = "_carried_from"


def carried_units(projection: MemoryProjection, before: MemoryProjection, kind: str) -> np.ndarray | None:
    """When ``projection`` was patched from ``before``: each unit of ``kind`` in ``before``, its
    position in ``projection`` when it was kept as it was (its text too), else ``-1``; ``None``
    when not known (for BM25: kept units keep their tokens and counts)."""
    origin = projection.__dict__.get(_CARRIED)
    if origin is None or origin[0]() is not before:
        return None
    return origin[1].get(kind)


def _named(projection: MemoryProjection, kind: str, ids: frozenset[str]) -> np.ndarray:
    """Per unit of ``kind``, whether ``ids`` holds its id: looked up through the position map (a
    change names a few units; a pass over every one took 3-4 ms per patch at 100,000 turns)."""
    out = np.zeros(projection.count(kind), dtype=bool)
    positions = projection.position[kind]
    for node in ids:
        at = positions.get(node)
        if at is not None:
            out[at] = True
    return out


def _insertion(key_of: Callable[[int], Any], n_kept: int, fresh_keys: Sequence[Any]) -> np.ndarray:
    """Where each of ``fresh_keys`` (sorted) goes among the ``n_kept`` kept units (sorted by
    ``key_of(index among them)``): the index of the kept unit it goes before."""
    kept = range(n_kept)
    return np.fromiter((bisect.bisect_left(kept, key, key=key_of) for key in fresh_keys), dtype=np.int64, count=len(fresh_keys))


def _spliced_list(values: Sequence[Any], old_map: np.ndarray, new: Sequence[Any]) -> list[Any]:
    """The kept items of ``values`` at their new positions (``old_map``: each item's, ``-1``:
    not kept) and ``new`` in order in the positions left (see :func:`_carried_list`: slices, not
    an item at a time)."""
    fresh = iter(new)
    return _carried_list(values, old_map, int((old_map >= 0).sum()) + len(new), lambda _position: next(fresh))


class _Ends(Mapping[str, int]):
    """Node id -> global position in the new projection, for the ends of the link rows read
    again (ids named ``<kind>:...``, as from_rows finds them): a unit built from its rows by its
    new id, a kept one through its old position."""

    def __init__(self, patch: _Patch, offset: Mapping[str, int],
                 kinds: Mapping[str, tuple[Mapping[str, int], np.ndarray | None]]) -> None:
        self._patch, self._offset, self._kinds = patch, offset, kinds

    def get(self, node: Any, default: Any = None) -> Any:
        kind = node.split(":", 1)[0] if type(node) is str else ""
        if kind not in self._kinds:
            return default
        now, old_map = self._kinds[kind]
        found = now.get(node)
        if found is None and old_map is not None:
            before = self._patch.old.position[kind].get(node)  # made at first use, for this kind only
            found = int(old_map[before]) if before is not None and old_map[before] >= 0 else None
        return default if found is None else self._offset[kind] + found

    def __getitem__(self, node: str) -> int:
        found = self.get(node)
        if found is None:
            raise KeyError(node)
        return found

    def __iter__(self) -> Any:  # only looked up (from_rows' link mapping calls get), never listed
        raise TypeError("not iterable")

    def __len__(self) -> int:
        raise TypeError("not sized")


def _relinked(old: tuple[np.ndarray, np.ndarray, np.ndarray], source_map: np.ndarray, target_map: np.ndarray, relinked: np.ndarray,
              fresh: Sequence[Mapping[str, Any]], keys: tuple[str, str, str], first: Mapping[str, int],
              second: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Links kept (at their ends' new positions; none of a unit whose links were read again,
    none to a unit gone) and the ``fresh`` rows' links, sorted as from_rows sorts them."""
    source, target, weight = old
    if len(source):
        new_source, new_target = source_map[source], target_map[target]
        keep = (new_source >= 0) & (new_target >= 0) & ~relinked[source]
        if target_map is source_map:
            keep &= ~relinked[target]
        source, target, weight = new_source[keep], new_target[keep], weight[keep]
    f_source, f_target, f_weight = _weighted_pairs(fresh, keys, first, second)
    if not len(f_source):
        return source, target, weight
    # both sorted by (source, target, weight): the fresh ones go in by binary search, unless a
    # pair is in both (then the weights decide: sort the whole)
    width = int(max(target.max(initial=0), f_target.max(initial=0))) + 1
    kept_key, fresh_key = source * width + target, f_source * width + f_target
    at = np.searchsorted(kept_key, fresh_key, side="left")
    if (at < len(kept_key)).any() and (kept_key[np.minimum(at, len(kept_key) - 1)] == fresh_key).any():
        source, target, weight = (np.concatenate([source, f_source]), np.concatenate([target, f_target]),
                                  np.concatenate([weight, f_weight]))
        order = np.lexsort((weight, target, source))
        return source[order], target[order], weight[order]
    return np.insert(source, at, f_source), np.insert(target, at, f_target), np.insert(weight, at, f_weight)
