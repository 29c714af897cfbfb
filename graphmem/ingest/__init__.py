"""Ingestion: conversations in, graph nodes and index entries out.

One package serves both ways in:

* :class:`IngestPipeline` (``pipeline``) takes whole loaded conversations (files,
  :class:`~graphmem.records.ConversationRecord`) and writes each in one transaction;
* :class:`LiveWriter` (``live``) appends, corrects and removes single messages of a
  conversation as it happens (``Memory.add``).

Both run the same stages over the pure ``extract/`` and ``cluster/`` code:
``segment`` (episode boundaries), ``episodes``, ``events`` (events and entities) and
``clustering`` (topics and associations); ``common`` holds what they, ``forget`` and the
retrieval projection share (a turn's indexed text, mean embeddings, NEXT stitching,
session previews).
"""

from __future__ import annotations

from typing import Any

__all__ = ["IngestPipeline", "IngestReport", "Progress", "SEQ_STRIDE", "LiveWriter", "AddReport"]

_EXPORTS = {
    "IngestPipeline": "pipeline", "IngestReport": "pipeline", "Progress": "pipeline", "SEQ_STRIDE": "common",
    "LiveWriter": "live", "AddReport": "live",
}


def __getattr__(name: str) -> Any:
    # lazy, so that graphmem.settings can import graphmem.ingest.segment without a cycle
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f"graphmem.ingest.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'graphmem.ingest' has no attribute {name!r}")
