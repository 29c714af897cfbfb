"""Process-level housekeeping shared by the model loaders."""

from __future__ import annotations

import gc
import logging
import threading

__all__ = ["allow_gc_freeze", "freeze_loaded_objects", "gc_freeze_allowed"]

logger = logging.getLogger(__name__)

_LOCK = threading.Lock()
_DONE: set[str] = set()
_ALLOWED = False


def allow_gc_freeze() -> None:
    """Let :func:`freeze_loaded_objects` freeze from now on, for the rest of the process.

    The ``graphmem`` command and server call it (they own their process); a library user opts
    in with ``Settings(freeze_gc=True)`` (``GRAPHMEM_FREEZE_GC=1``), which a Memory made with
    it calls. ``gc.freeze`` is process-wide, so it cannot be undone per Memory.
    """
    global _ALLOWED
    _ALLOWED = True


def gc_freeze_allowed() -> bool:
    """Whether :func:`allow_gc_freeze` was called in this process."""
    return _ALLOWED


def freeze_loaded_objects(what: str) -> None:
    """Move every object alive now out of the cyclic garbage collector's sight, where this
    process opted in (:func:`allow_gc_freeze`); otherwise do nothing.

    Done once per ``what``: after the embedding model or the language pipeline is loaded,
    and before the retrieval caches are first built. Models and imported modules are
    hundreds of thousands of long-lived objects that every full collection re-scanned:
    during an ingest, which allocates many short-lived objects (and JPype runs its own
    hook at each collection), that was a fifth of the wall time on the dev set; at query
    time it showed as a 400 ms query every few hundred. Garbage is collected first, so
    only live objects are frozen; they are still freed by reference counting as usual,
    and only reference cycles among them would outlive their use (``gc.unfreeze`` undoes it).
    That includes the caller's own cycles alive at that moment, and the collection holds the
    GIL for a tenth of a second: a library must not do either to its user's process unasked
    (an application's 200 MB cycle alive at its first add was never collected), so it is opt-in.
    """
    if not _ALLOWED:
        return
    with _LOCK:
        if what in _DONE:
            return
        _DONE.add(what)
        gc.collect()
        gc.freeze()
    logger.debug("after loading %s: %d objects frozen out of the cyclic collector", what, gc.get_freeze_count())
