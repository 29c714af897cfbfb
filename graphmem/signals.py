"""Clean stops on SIGTERM and SIGINT, for processes that graphmem owns (the CLI, the server).

A library is a guest in its user's process, so nothing here runs on import: the CLI and
``graphmem serve`` opt in with :func:`stop_on_signals`. The embedded store's JVM is started
with ``-Xrs`` (see :mod:`graphmem.store.embedded`), so it never takes SIGTERM or SIGINT for
itself; without that, a SIGTERM during an ingest ran the JVM's shutdown while Python still
called into it (a hang, or a crash banner, exit 134 and an ``hs_err`` log).

With the handlers installed, a signal raises :class:`Interrupted` in the main thread at the
next Python instruction: a Java call in progress finishes first, then the store's transaction
context rolls back what it had not committed (or the commit that just returned stands), the
``with`` blocks close the store, and the CLI prints one line and exits ``128 + signal``.
When that instruction is one Python cannot let an exception leave (a weakref callback, a
``__del__``: it would print "Exception ignored" and go on), the signal is delivered again a
moment later, so it raises where it can unwind instead of being lost.
"""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from types import FrameType
from typing import Callable, Iterator

__all__ = ["Interrupted", "STOP_SIGNALS", "stop_on_signals", "handle_signals"]

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
REDELIVERY_DELAY = 0.01
"""Seconds after a swallowed :class:`Interrupted` before its signal is delivered again."""


class Interrupted(BaseException):
    """Raised in the main thread when a stop signal arrives (see :func:`stop_on_signals`).

    A ``BaseException`` like ``KeyboardInterrupt``, so ``except Exception`` blocks do not
    swallow it on its way up.

    Attributes:
        signum: the signal received.
        exit_code: the conventional exit status for it, ``128 + signum`` (143 for SIGTERM,
            130 for SIGINT).
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum
        self.exit_code = 128 + signum


class _OneShot:
    """Raise :class:`Interrupted` for the first signal only: a second one arriving while the
    first unwinds (rolling back, closing the store) must not break that cleanup."""

    def __init__(self) -> None:
        self.received: int | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            return
        self.received = signum
        raise Interrupted(signum)


@contextmanager
def handle_signals(handler: Callable[[int, FrameType | None], object],
                   signals: tuple[int, ...] = STOP_SIGNALS) -> Iterator[None]:
    """Install ``handler`` for ``signals`` and restore the previous handlers on exit.

    Outside the main thread (where Python cannot install handlers) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)


@contextmanager
def stop_on_signals(signals: tuple[int, ...] = STOP_SIGNALS) -> Iterator[None]:
    """Turn SIGTERM and SIGINT into :class:`Interrupted` raised in the main thread.

    Example:
        >>> with stop_on_signals():                      # doctest: +SKIP
        ...     with Memory.open(store) as memory:
        ...         memory.ingest("chat.jsonl")          # SIGTERM: rolled back or committed whole, store closed
    """
    handler = _OneShot()
    if threading.current_thread() is not threading.main_thread():
        yield  # no handler can be installed here (see handle_signals)
        return
    previous_hook = sys.unraisablehook

    def redeliver(unraisable: "sys.UnraisableHookArgs") -> None:
        exc = unraisable.exc_value
        if isinstance(exc, Interrupted) and handler.received == exc.signum:
            handler.received = None  # swallowed where it was raised: not yet acted on
            # from another thread, a moment later: raised here, it would be swallowed again
            threading.Timer(REDELIVERY_DELAY, signal.raise_signal, (exc.signum,)).start()
            return
        previous_hook(unraisable)

    sys.unraisablehook = redeliver
    try:
        with handle_signals(handler, signals):
            yield
    finally:
        sys.unraisablehook = previous_hook
