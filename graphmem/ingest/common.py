"""What batch ingest, live adds, forget and the retrieval projection share.

Each helper lives here once: the indexed text of a turn, the normalised mean of unit
embeddings, session previews, and NEXT stitching (consecutive links, and links to the
stored neighbours of a run of new units).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from graphmem.store import GraphStore

__all__ = ["SEQ_STRIDE", "MAX_EPISODE_TEXT", "MAX_PREVIEW", "indexed_text", "mean_vector", "session_preview",
           "chain_links", "stitch_links"]

SEQ_STRIDE = 1_000_000
"""Turn order key: ``seq = session_number * SEQ_STRIDE + index_in_session``."""

MAX_EPISODE_TEXT = 4000
"""Characters of an episode's stored text (its turns' indexed texts, joined)."""

MAX_PREVIEW = 500
"""Characters of a session's stored preview."""


def indexed_text(speaker: str | None, text: str | None, caption: str | None = None) -> str:
    """The text of a turn used for embedding and keyword search: speaker, text and caption."""
    base = f"{speaker}: {text or ''}" if speaker else (text or "")
    return f"{base} [image: {caption}]" if caption else base


def mean_vector(vectors: Iterable[Any] | np.ndarray) -> np.ndarray:
    """The L2-normalised mean of ``vectors`` (an episode's or a session's embedding), float32."""
    matrix = np.asarray(vectors if isinstance(vectors, np.ndarray) else list(vectors), dtype=np.float32)
    mean = matrix.mean(axis=0)
    return (mean / (np.linalg.norm(mean) or 1.0)).astype(np.float32)


def session_preview(turns: Iterable[tuple[str, str]]) -> str:
    """A session's stored preview from its ``(speaker, text)`` pairs in order: the first three."""
    pairs = []
    for pair in turns:
        pairs.append(pair)
        if len(pairs) == 3:
            break
    return " / ".join(f"{speaker}: {text}" for speaker, text in pairs)[:MAX_PREVIEW]


def chain_links(ids: Sequence[str]) -> list[dict[str, str]]:
    """NEXT rows joining ``ids`` in order."""
    return [{"src": a, "dst": b} for a, b in zip(ids, ids[1:])]


def stitch_links(store: GraphStore, kind: str, namespace: str, conversation: str, first: tuple[str, int],
                 last: tuple[str, int], known: set[str]) -> list[dict[str, str]]:
    """NEXT rows from the stored unit before ``first`` and to the stored unit after ``last``.

    Args:
        kind: ``"turn"`` or ``"episode"`` (reads ``read/previous_<kind>`` and ``read/next_<kind>``).
        first, last: ``(id, seq)`` of the first and last unit of a run being written.
        known: ids written in the same run (never stitched to).
    """
    params = {"conversation_id": conversation, "namespace": namespace}
    links = []
    before = store.read(f"read/previous_{kind}", {**params, "seq": first[1]})
    if before and before[0]["id"] not in known:
        links.append({"src": before[0]["id"], "dst": first[0]})
    after = store.read(f"read/next_{kind}", {**params, "seq": last[1]})
    if after and after[0]["id"] not in known:
        links.append({"src": last[0], "dst": after[0]["id"]})
    return links
