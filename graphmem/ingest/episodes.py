"""Episodes: runs of consecutive turns about one thing (event segmentation)."""

from __future__ import annotations

import logging
from itertools import groupby
from typing import Any

import numpy as np

from graphmem.ids import node_id
from graphmem.ingest.common import MAX_EPISODE_TEXT, mean_vector, order_links, time_span
from graphmem.ingest.segment import EpisodeSegmenter
from graphmem.ingest.types import PlannedTurn, StageOutput, UnitBatch
from graphmem.store import GraphStore, chunked

__all__ = ["EpisodeStage", "MAX_EPISODE_TEXT", "episode_id"]

logger = logging.getLogger(__name__)



def episode_id(namespace: str, conversation_key: str, session_key: str, first_index: int) -> str:
    """An episode's id: its conversation, session and first turn (stable while an open
    episode grows at the tail of a live conversation)."""
    return node_id(namespace, "episode", conversation_key, session_key, first_index)


class EpisodeStage:
    """Segment the new turns of each session into episodes.

    Sessions always end episodes, and the new turns of a session are segmented on
    their own, so appending never moves an old episode boundary.
    """

    def __init__(self, store: GraphStore, segmenter: EpisodeSegmenter, namespace: str, batch_size: int) -> None:
        self.store = store
        self.segmenter = segmenter
        self.namespace = namespace
        self.batch_size = batch_size

    def run(self, conversation_key: str, turns: list[PlannedTurn], vectors: dict[str, np.ndarray]) -> StageOutput:
        """Plan Episode nodes, PART_OF and NEXT edges for ``turns`` (new turns, seq order)."""
        output = StageOutput()
        episodes: list[dict] = []
        part_of: list[dict] = []
        episode_vectors: list[np.ndarray] = []
        part_of_first: dict[str, str] = {}
        for _, group in groupby(sorted(turns, key=lambda t: t.seq), key=lambda t: t.session_id):
            block = list(group)
            matrix = np.stack([vectors[t.id] for t in block])
            times = [t.record.timestamp for t in block]
            starts = self.segmenter.boundaries(matrix, times=times if all(times) else None)
            for start, end in zip(starts, [*starts[1:], len(block)]):
                members = block[start:end]
                first, last = members[0], members[-1]
                eid = episode_id(self.namespace, conversation_key, first.session.key, first.index)
                mean = mean_vector(matrix[start:end])
                text = "\n".join(t.record.indexed_text for t in members)
                started_at, ended_at = time_span(t.when for t in members)
                episodes.append({"id": eid, "props": {
                    "namespace": self.namespace, "conversation_id": conversation_key,
                    "session_key": first.session.key, "session_number": first.session.number,
                    "start_seq": first.seq, "end_seq": last.seq, "turn_count": len(members),
                    "text": text[:MAX_EPISODE_TEXT], "started_at": started_at, "ended_at": ended_at,
                    "embedding": mean,
                }})
                episode_vectors.append(mean)
                part_of.extend({"turn_id": t.id, "episode_id": eid} for t in members)
                part_of_first[eid] = first.id
        if not episodes:
            return output
        output.statements.append(("write/merge_episodes", {"rows": episodes}))
        output.statements.extend(("write/merge_part_of", {"rows": list(rows)}) for rows in chunked(part_of, self.batch_size))
        links, unlinks = self._episode_order(conversation_key, episodes)
        if unlinks:
            output.statements.append(("write/unlink_next_episodes", {"namespace": self.namespace, "rows": unlinks}))
        output.statements.append(("write/merge_next_episodes", {"rows": links}))
        output.add_vectors("episode", [e["id"] for e in episodes], np.stack(episode_vectors))
        output.counts["episodes"] = len(episodes)
        episode_of = {row["turn_id"]: row["episode_id"] for row in part_of}
        by_id = {t.id: t for t in turns}
        output.units["turn"] = UnitBatch(
            ids=[t.id for t in turns], vectors=np.stack([vectors[t.id] for t in turns]),
            sessions=[t.session.number for t in turns], texts=[t.record.text for t in turns],  # as stored (Turn.text)
            parents=[episode_of.get(t.id) for t in turns])
        output.units["episode"] = UnitBatch(
            ids=[e["id"] for e in episodes], vectors=np.stack(episode_vectors),
            sessions=[e["props"]["session_number"] for e in episodes], texts=[e["props"]["text"] for e in episodes],
            parents=[by_id[part_of_first[e["id"]]].session_id for e in episodes])
        return output

    def _episode_order(self, conversation_key: str, episodes: list[dict[str, Any]]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """The NEXT rows that put the new ``episodes`` into their conversation's episode order, and
        the stored NEXT edges they now sit between (to delete): the conversation's stored
        episodes are read with where they start (:func:`~graphmem.ingest.common.order_links`)."""
        new = {e["id"]: int(e["props"]["start_seq"]) for e in episodes}
        rows = self.store.read("read/conversation_episode_order", {"namespace": self.namespace, "keys": [conversation_key]})
        return order_links(((int(r["seq"]), r["id"]) for r in rows if r.get("seq") is not None), new)
