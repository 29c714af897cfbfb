"""Episodes: runs of consecutive turns about one thing (event segmentation)."""

from __future__ import annotations

import logging
from itertools import groupby

import numpy as np

from graphmem.ids import node_id
from graphmem.segment import EpisodeSegmenter
from graphmem.stages import PlannedTurn, StageOutput, UnitBatch, iso
from graphmem.store import GraphStore, chunked

__all__ = ["EpisodeStage"]

logger = logging.getLogger(__name__)

MAX_EPISODE_TEXT = 4000


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
                eid = node_id(self.namespace, "episode", conversation_key, first.session.key, first.index, last.index)
                mean = matrix[start:end].mean(axis=0)
                mean = (mean / (np.linalg.norm(mean) or 1.0)).astype(np.float32)
                text = "\n".join(t.record.indexed_text for t in members)
                episodes.append({"id": eid, "props": {
                    "namespace": self.namespace, "conversation_id": conversation_key,
                    "session_key": first.session.key, "session_number": first.session.number,
                    "start_seq": first.seq, "end_seq": last.seq, "turn_count": len(members),
                    "text": text[:MAX_EPISODE_TEXT], "started_at": iso(first.when), "ended_at": iso(last.when),
                    "embedding": mean,
                }})
                episode_vectors.append(mean)
                part_of.extend({"turn_id": t.id, "episode_id": eid} for t in members)
                part_of_first[eid] = first.id
        if not episodes:
            return output
        links = [{"src": a["id"], "dst": b["id"]} for a, b in zip(episodes, episodes[1:])]
        params = {"conversation_id": conversation_key, "namespace": self.namespace}
        known = {e["id"] for e in episodes}
        before = self.store.read("read/previous_episode", {**params, "seq": episodes[0]["props"]["start_seq"]})
        if before and before[0]["id"] not in known:
            links.append({"src": before[0]["id"], "dst": episodes[0]["id"]})
        after = self.store.read("read/next_episode", {**params, "seq": episodes[-1]["props"]["end_seq"]})
        if after and after[0]["id"] not in known:
            links.append({"src": episodes[-1]["id"], "dst": after[0]["id"]})
        output.statements.append(("write/merge_episodes", {"rows": episodes}))
        output.statements.extend(("write/merge_part_of", {"rows": list(rows)}) for rows in chunked(part_of, self.batch_size))
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
