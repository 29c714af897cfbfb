"""``graphmem bench segment``: episode segmentation scored against true session boundaries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from graphmem.embed import Embedder
from graphmem.eval.segmentation import segmentation_benchmark
from graphmem.loaders import load
from graphmem.ingest.segment import EpisodeSegmenter
from graphmem.settings import Settings

__all__ = ["bench_segment"]


def bench_segment(path: Path, settings: Settings) -> dict[str, Any]:
    """Concatenate each conversation's sessions (no session ends, no dates given to the
    segmenter) and score its boundaries against the true session starts with Pk and
    WindowDiff, beside an equal-count fixed-size baseline."""
    records = load(path)
    embedder = Embedder.from_settings(settings)
    conversations = []
    names = []
    for record in records:
        texts, starts = [], []
        for session in record.sessions:
            starts.append(len(texts))
            texts.extend(t.indexed_text for t in session.turns)
        conversations.append((embedder.encode(texts), starts))
        names.append(record.key)
    result = segmentation_benchmark(conversations, EpisodeSegmenter(settings.segmenter))
    for name, row in zip(names, result["conversations"]):
        row["conversation"] = name
    result["turns"] = int(sum(len(e) for e, _ in conversations))
    result["mean_embedding_norm"] = float(np.mean([np.linalg.norm(e, axis=1).mean() for e, _ in conversations]))
    return result
