"""Clean stops on SIGTERM, SIGINT and SIGHUP, for processes that graphmem owns (the CLI, the server).

A library is a guest in its user's process, so nothing here runs on import: the CLI and
``graphmem serve`` opt in with :func:`stop_on_signals`. The embedded store's JVM is started
with ``-Xrs`` (see :mod:`graphmem.store.embedded`), so it never takes SIGTERM or SIGINT for
itself; without that, a SIGTERM during an ingest ran the JVM's shutdown while Python still
called into it (a hang, or a crash banner, exit 134 and an ``hs_err`` log).

With the handlers installed, a signal raises :class:`Interrupted` in the main thread at the
next Python instruction: a Java call in progress finishes first, then the store's transaction
context rolls back what it had not committed (or the commit that just returned stands), the
``with`` blocks close the store, and the CLI prints one line and exits ``128 + signal`` (143 for
SIGTERM, 130 for SIGINT, 129 for SIGHUP).

A stop must not be lost on its way up. Code between the signal and the CLI can swallow it: a
weakref callback or ``__del__`` (Python prints "Exception ignored" and goes on), a bare
``except:`` in a library (spaCy's ``is_package`` has one), or an extension module whose
initialisation turns it into ``ImportError("initialization failed")`` that a fallback import
then catches. So until the stop leaves :func:`stop_on_signals`, the main thread is checked every
:data:`WATCH_INTERVAL` seconds: while the stop is unwinding (cleanup in a ``finally``, an
``__exit__`` or an ``except`` that re-raises) it is left alone, and once it has been swallowed
it is raised again. An error that wraps a stop still ends as that stop: :func:`stop_in` finds it
(the CLI exits as interrupted), and code that contains or retries failures re-raises it with
:func:`reraise_stop` instead of treating it as one more failure.
"""

from __future__ import annotations

import _thread
import atexit
import logging
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from types import FrameType
from typing import Any, Callable, Iterator, NoReturn

__all__ = ["Interrupted", "STOP_SIGNALS", "stop_on_signals", "stops_deferred", "handle_signals", "stop_in", "received_stop", "reraise_stop",
           "exit_after_stop", "hold_stops_until_exit", "work_done"]

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT) + ((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ())
"""The signals that stop a process graphmem owns cleanly. SIGHUP (its terminal or ssh session
closed) too: it killed ``serve``, ``ingest`` and ``mcp`` at once, requests in flight reset; it exits
129. Where SIGHUP is ignored (``nohup``), it stays ignored (see :func:`_handled`)."""
WATCH_INTERVAL = 0.02
"""Seconds between checks that a stop raised in the main thread is still on its way up."""
STOP_GRACE = 2.0
"""Seconds :func:`exit_after_stop` waits for other threads before the process ends without them."""


class Interrupted(BaseException):
    """Raised in the main thread when a stop signal arrives (see :func:`stop_on_signals`).

    A ``BaseException`` like ``KeyboardInterrupt``, so ``except Exception`` blocks do not
    swallow it on its way up.

    Attributes:
        signum: the signal received.
        exit_code: the conventional exit status for it, ``128 + signum`` (143 for SIGTERM,
            130 for SIGINT, 129 for SIGHUP).
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum
        self.exit_code = 128 + signum


def stop_in(exc: BaseException | None) -> Interrupted | None:
    """The :class:`Interrupted` that ``exc`` is, or that caused it (along its ``__cause__`` or
    ``__context__`` chain), if any: code between the signal and its catcher may have wrapped
    the stop in an error of its own."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, Interrupted):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ if exc.__cause__ is not None else exc.__context__
    return None


def reraise_stop(exc: BaseException) -> None:
    """Raise the stop that caused ``exc``, if a stop did. For ``except Exception`` blocks that
    contain, retry or rebuild after a failure: a stop ends the work, it is never contained."""
    stop = stop_in(exc)
    if stop is not None and stop is not exc:
        raise stop from exc


_deferring = 0
_DEFER_LOCK = threading.Lock()


@contextmanager
def stops_deferred() -> Iterator[None]:
    """Hold a stop that arrives while this block runs (in any thread) until it ends; it is
    raised in the main thread then (by :func:`stop_on_signals`'s watch), as if it came then.

    For loading native code: importing torch runs module code of its own from C++ (pybind11),
    and an exception raised there by the stop cannot unwind through it. The process aborted
    ("terminate called after throwing an instance of 'pybind11::error_already_set'"), as a
    fresh-clone CI run saw once when ``graphmem mcp`` got a SIGTERM while it loaded the
    embedding model before listening.

    In a library user's process (no :func:`stop_on_signals`), Ctrl-C is Python's own
    ``KeyboardInterrupt``: raised inside such a load, it left torch half imported (every later
    add failed with "partially initialized module 'torch'") or crashed the process (a SIGSEGV
    report from the JVM). So where SIGINT still has Python's default handler and this runs in
    the main thread, a SIGINT during the block is held the same way: the handler is put back
    when the block ends, and ``KeyboardInterrupt`` is raised then, the load done (a later call
    finds it loaded). A handler of the user's own is left alone."""
    global _deferring
    held: list[int] | None = None
    hold: list[int]
    previous: Any = None
    if (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
        held = hold = []
        previous = signal.signal(signal.SIGINT, lambda signum, frame: hold.append(signum))
    with _DEFER_LOCK:
        _deferring += 1
    try:
        yield
    finally:
        with _DEFER_LOCK:
            _deferring -= 1
        if held is not None:
            signal.signal(signal.SIGINT, previous)
            if held:
                logger.debug("Ctrl-C held while native code loaded: raised now that the load is done")
                raise KeyboardInterrupt


_received: int | None = None  # the stop signal the latest stop_on_signals block received


def received_stop() -> Interrupted | None:
    """The stop the latest :func:`stop_on_signals` block received, if one came: an error that
    reaches its catcher without the stop in its chain still ends in it (a library that turns the
    exception raised inside it into its own error, keeping only its text: pydantic-core building a
    schema while the stop came gave a ``SchemaError`` whose message alone named the stop)."""
    return Interrupted(_received) if _received is not None else None


class _Stop:
    """The handler :func:`stop_on_signals` installs.

    The first signal raises :class:`Interrupted` and starts a watch thread that has the handler
    called again in the main thread every :data:`WATCH_INTERVAL` seconds (``interrupt_main``
    sets Python's flag only, so no system call of the main thread is cut short). Called again,
    the handler does nothing while the stop unwinds (the exception being handled there is the
    stop, or one it caused): a second signal must not break the rollback or the closing of the
    store. Called where nothing is handling the stop, it raises the stop again: it was swallowed."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._done = threading.Event()
        self._watch: threading.Thread | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        global _received
        if self.received is None:
            self.received = _received = signum
            self._watch = threading.Thread(target=self._watching, args=(signum,), name="graphmem-stop-watch", daemon=True)
            self._watch.start()
            if _deferring:
                return  # raised by the watch once the deferring block ends
            raise Interrupted(signum)
        if stop_in(sys.exc_info()[1]) is not None or _deferring:
            return  # on its way up: let the cleanup run (or held: see stops_deferred)
        raise Interrupted(self.received)  # swallowed somewhere (or held until now): raised again

    def _watching(self, signum: int) -> None:
        while not self._done.wait(WATCH_INTERVAL):
            _thread.interrupt_main(signum)

    def close(self) -> None:
        """Stop watching: the stop has left :func:`stop_on_signals` (or none came)."""
        self._done.set()
        if self._watch is not None:
            self._watch.join()


def _handled(signals: tuple[int, ...]) -> tuple[int, ...]:
    """``signals`` less SIGHUP where the process ignores it: started with ``nohup`` (or by a
    shell that ignores it), it is meant to outlive its terminal."""
    hangup = getattr(signal, "SIGHUP", None)
    if hangup in signals and signal.getsignal(hangup) is signal.SIG_IGN:
        return tuple(sig for sig in signals if sig != hangup)
    return signals


@contextmanager
def handle_signals(handler: Callable[[int, FrameType | None], object],
                   signals: tuple[int, ...] = STOP_SIGNALS) -> Iterator[None]:
    """Install ``handler`` for ``signals`` and restore the previous handlers on exit. An ignored
    SIGHUP stays ignored (see :func:`_handled`).

    Outside the main thread (where Python cannot install handlers) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in _handled(signals)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)


@contextmanager
def stop_on_signals(signals: tuple[int, ...] = STOP_SIGNALS) -> Iterator[None]:
    """Turn SIGTERM and SIGINT into :class:`Interrupted` raised in the main thread, raised
    again should anything swallow it before it leaves this block (see the module).

    Example:
        >>> with stop_on_signals():                      # doctest: +SKIP
        ...     with Memory.open(store) as memory:
        ...         memory.ingest("chat.jsonl")          # SIGTERM: rolled back or committed whole, store closed
    """
    global _received
    if threading.current_thread() is not threading.main_thread():
        yield  # no handler can be installed here (see handle_signals)
        return
    _received = None
    handler = _Stop()
    previous_hook = sys.unraisablehook

    def quiet(unraisable: "sys.UnraisableHookArgs") -> None:
        if stop_in(unraisable.exc_value) is None:
            previous_hook(unraisable)
        # a stop swallowed where Python cannot let it leave: not printed, raised again by the watch

    sys.unraisablehook = quiet
    try:
        with handle_signals(handler, signals):
            try:
                yield
            finally:
                handler.close()
    finally:
        sys.unraisablehook = previous_hook


_late_stops: list[int] = []


def _late_stop(signum: int, _frame: FrameType | None) -> None:
    """A stop after the work is done: the first lets the process finish as it was going to; a
    second ends it at once with ``128 + signal``."""
    _late_stops.append(signum)
    if len(_late_stops) > 1:  # asked twice: stop waiting for the exit to finish
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed or broken stream: nothing left to write
                pass
        os._exit(128 + signum)
    logger.debug("%s after the work was done: the process finishes", signal.Signals(signum).name)


def hold_stops_until_exit(signals: tuple[int, ...] = STOP_SIGNALS) -> None:
    """Keep a stop that arrives after :func:`stop_on_signals` has been left, while the process
    exits (exit functions, the JVM's shutdown), from killing it where it stands: the work is
    done by then, so the first such stop lets the exit finish with the code it was going to
    have; a second one ends the process at once with ``128 + signal``.

    Call it once, first thing in a process graphmem owns: its handler is the one
    :func:`stop_on_signals` restores. (Without it, a fast ingest that finished within a test's
    random delay was killed by a SIGTERM while its exit functions ran: exit -15.)

    It also registers the exit function that runs last (registered first), which ignores the
    stops from then on: Python's finalization, after the exit functions, puts back the default
    action of the signals it had handlers for, and a SIGTERM there killed an ingest whose work
    and output were done (exit -15: 4 of 11 SIGTERMs sent 4.3-5.8 s after a 120-turn CLI ingest
    opened its store; none of 7 sent 4.7-5.1 s with this)."""
    work_done(signals)
    if threading.current_thread() is threading.main_thread():
        atexit.register(_ignore_stops_at_exit, signals)


def _ignore_stops_at_exit(signals: tuple[int, ...]) -> None:
    """The last exit function (see :func:`hold_stops_until_exit`): the rest of the exit ignores
    the stops (finalization keeps an ignored signal ignored)."""
    if threading.current_thread() is threading.main_thread():
        for sig in signals:
            signal.signal(sig, signal.SIG_IGN)


def work_done(signals: tuple[int, ...] = STOP_SIGNALS) -> None:
    """The work is done (committed, stores closed) and its result is being written: from now on
    a stop lets the process finish as it was going to (a second ends it at once; see
    :func:`hold_stops_until_exit`), so a result already written never ends with "interrupted",
    nor is one cut short."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in _handled(signals):
        signal.signal(sig, _late_stop)


def exit_after_stop(code: int) -> NoReturn:
    """End the process with ``code`` once a stop has been handled (stores closed, the line
    printed).

    The interpreter's own exit waits for every thread that is not a daemon, and a thread
    blocked on I/O never ends while the other side keeps its pipe or socket open (a worker
    of the server's, a library's reader thread; ``graphmem mcp`` reads stdin in a daemon
    thread for this reason, :mod:`graphmem.server.stdio`). Other threads get
    :data:`STOP_GRACE` seconds; any still running then is left behind: the exit functions run
    and the process ends.
    """
    lingering = [t for t in threading.enumerate()
                 if t is not threading.current_thread() and not t.daemon and t.is_alive()]
    deadline = time.monotonic() + STOP_GRACE
    for thread in lingering:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in lingering if t.is_alive()]
    if not stuck:
        sys.exit(code)
    logger.debug("stopping without threads still running: %s", ", ".join(stuck))
    atexit._run_exitfuncs()  # what the interpreter runs at exit, after its wait for the threads
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: nothing left to write
            pass
    os._exit(code)
