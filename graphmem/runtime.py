"""Process-level housekeeping shared by the model loaders."""

from __future__ import annotations

import gc
import logging
import threading

__all__ = ["freeze_loaded_objects"]

logger = logging.getLogger(__name__)

_LOCK = threading.Lock()


def freeze_loaded_objects(what: str) -> None:
    """Move every object alive now out of the cyclic garbage collector's sight.

    Called once after a model is loaded (the embedding model, the language pipeline):
    they bring hundreds of thousands of long-lived Python objects, and every full
    collection re-scanned them all. During an ingest, which allocates many short-lived
    objects (and JPype runs its own hook at each collection), that re-scanning was a
    fifth of the wall time on the dev set. Garbage is collected first, so only live
    objects are frozen; they are still freed by reference counting as usual, and only
    reference cycles among them would outlive their use (``gc.unfreeze`` undoes it).
    """
    with _LOCK:
        gc.collect()
        gc.freeze()
    logger.debug("after loading %s: %d objects frozen out of the cyclic collector", what, gc.get_freeze_count())
