"""What batch ingest, live adds, forget and the retrieval projection share.

Each helper lives here once: the indexed text of a turn, the normalised mean of unit
embeddings, session previews, and NEXT links (consecutive links, and new units put into a
stored order).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from graphmem.timezones import to_stored


__all__ = ["SEQ_STRIDE", "MAX_EPISODE_TEXT", "MAX_PREVIEW", "indexed_text", "mean_vector", "session_preview",
           "chain_links", "order_links", "time_span"]

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


def time_span(times: Iterable[datetime | str | None]) -> tuple[str | None, str | None]:
    """An episode's ``started_at`` and ``ended_at``: the earliest and the latest of its turns' times
    (datetimes or stored ISO 8601 text; ``None`` passed over), as ISO 8601 text. Not its first and
    last turn's: a message that came late, older than the one before it, is stored after it, and a
    span from the first to the last ended before it began (a time range meeting it missed it)."""
    known = [when for when in map(_stored_time, times) if when is not None]
    if not known:
        return None, None
    return min(known).isoformat(), max(known).isoformat()


def _stored_time(value: datetime | str | None) -> datetime | None:
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:  # damage (check names it): passed over, as a time not known
            return None
    return to_stored(value, None) if isinstance(value, datetime) else None


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


def order_links(stored: Iterable[tuple[int, str]], new: Mapping[str, int]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The NEXT rows that put ``new`` units (id -> position) into a conversation's stored order
    (``(position, id)`` of every stored unit), and the stored NEXT edges they now sit between
    (to delete): every two neighbours of the merged order of which one is new are linked.

    Stitching only the first new unit to the stored one before it and the last to the one
    after left the order forked where the new units were not one run, or sat between two
    stored ones (an episode: a forgotten session tail put back by an ingest; a turn: a message
    appended by a file to a session that has later ones)."""
    kept = sorted((seq, uid) for seq, uid in stored if uid not in new)
    order = sorted([*kept, *((seq, uid) for uid, seq in new.items())])
    links = [{"src": a, "dst": b} for (_, a), (_, b) in zip(order, order[1:]) if a in new or b in new]
    position = {uid: i for i, (_, uid) in enumerate(order)}
    unlinks = [{"src": a, "dst": b} for (_, a), (_, b) in zip(kept, kept[1:]) if position[b] - position[a] > 1]
    return links, unlinks
