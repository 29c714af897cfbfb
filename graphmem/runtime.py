"""Process-level housekeeping shared by the model loaders."""

from __future__ import annotations

import gc
import logging
import threading

__all__ = ["freeze_loaded_objects"]

logger = logging.getLogger(__name__)

_LOCK = threading.Lock()
_DONE: set[str] = set()


def freeze_loaded_objects(what: str) -> None:
    """Move every object alive now out of the cyclic garbage collector's sight.

    Done once per ``what``: after the embedding model or the language pipeline is loaded,
    and before the retrieval caches are first built. Models and imported modules are
    hundreds of thousands of long-lived objects that every full collection re-scanned:
    during an ingest, which allocates many short-lived objects (and JPype runs its own
    hook at each collection), that was a fifth of the wall time on the dev set; at query
    time it showed as a 400 ms query every few hundred. Garbage is collected first, so
    only live objects are frozen; they are still freed by reference counting as usual,
    and only reference cycles among them would outlive their use (``gc.unfreeze`` undoes it).
    """
    with _LOCK:
        if what in _DONE:
            return
        _DONE.add(what)
        gc.collect()
        gc.freeze()
    logger.debug("after loading %s: %d objects frozen out of the cyclic collector", what, gc.get_freeze_count())
