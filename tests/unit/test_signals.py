"""Stop signals in the process that owns them (graphmem.signals), delivered to this test process."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import threading
import weakref
from pathlib import Path

import pytest

from graphmem.signals import Interrupted, stop_on_signals

REPO = Path(__file__).resolve().parents[2]


class _Thing:
    pass


def test_a_signal_swallowed_in_a_callback_is_delivered_again(capsys):
    """A signal whose Interrupted is raised inside a weakref callback (Python prints "Exception
    ignored" and goes on there) is delivered again a moment later and stops the code after it;
    nothing is printed, and the handlers and the unraisable hook are restored afterwards."""
    handler, hook = signal.getsignal(signal.SIGTERM), sys.unraisablehook
    with pytest.raises(Interrupted) as caught:
        with stop_on_signals():
            thing = _Thing()
            ref = weakref.ref(thing, lambda _ref: signal.raise_signal(signal.SIGTERM))  # the handler runs in here
            del thing
            gc.collect()
            assert ref() is None  # the callback ran, and the Interrupted raised in it was swallowed
            for _ in range(10**7):  # far longer than the redelivery delay: the signal stops it
                pass
            pytest.fail("the signal swallowed in the callback was lost")
    assert caught.value.signum == signal.SIGTERM and caught.value.exit_code == 143
    assert "Exception ignored" not in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is handler and sys.unraisablehook is hook


def test_a_signal_in_plain_code_raises_once():
    with pytest.raises(Interrupted) as caught:
        with stop_on_signals():
            signal.raise_signal(signal.SIGINT)
            for _ in range(10**7):
                pass
            pytest.fail("not interrupted")
    assert caught.value.exit_code == 130


def _signal_and_run(signum: int) -> None:
    """Send ``signum`` to this process, then run Python code long enough to be stopped by it."""
    signal.raise_signal(signum)
    for _ in range(10**7):
        pass


def test_a_stop_swallowed_by_a_bare_except_is_raised_again():
    """A stop swallowed on its way up (spaCy's ``is_package`` has a bare ``except:``; a fallback
    import catches the ImportError an extension module makes of it) is raised again."""
    with pytest.raises(Interrupted) as caught:
        with stop_on_signals():
            try:
                _signal_and_run(signal.SIGTERM)
                pytest.fail("not interrupted")
            except:  # noqa: E722 - what the library does
                pass
            for _ in range(10**8):  # the watch raises it again in here
                pass
            pytest.fail("the swallowed stop was lost")
    assert caught.value.signum == signal.SIGTERM


def test_the_cleanup_of_a_stop_runs_to_its_end_despite_a_second_signal():
    """While the stop unwinds (a rollback in ``finally``, a store closing in ``__exit__``), the
    watch and a second signal leave it alone."""
    finished = []
    with pytest.raises(Interrupted) as caught:
        with stop_on_signals():
            try:
                _signal_and_run(signal.SIGINT)
            finally:
                signal.raise_signal(signal.SIGTERM)  # a second signal, during the cleanup
                for _ in range(2 * 10**6):  # many watch intervals long
                    pass
                try:  # the cleanup's own errors, handled inside it, do not count as a swallowed stop
                    raise OSError("cleanup step failed")
                except OSError:
                    for _ in range(10**6):
                        pass
                finished.append(True)
    assert finished == [True]
    assert caught.value.signum == signal.SIGINT
    assert not [t for t in threading.enumerate() if t.name == "graphmem-stop-watch"]


WRAPPING_APP = """
import signal, sys
from graphmem import cli
from graphmem.errors import StorageError

def app():
    with cli._errors():  # CLI commands run in here; a wrapped stop must not read as their error
        try:
            signal.raise_signal(signal.{signal})
            for _ in range(10**8):
                pass
            sys.exit(5)  # not interrupted
        except BaseException as exc:  # a library (or an extension module) wrapping the stop
            raise {wrapper}("write failed: initialization failed") from exc

cli.app = app
cli.main()
"""


@pytest.mark.parametrize("signum, wrapper", [("SIGTERM", "StorageError"), ("SIGINT", "RuntimeError")])
def test_the_cli_exits_as_interrupted_when_a_stop_comes_back_wrapped_in_another_error(signum, wrapper):
    """A real signal, in a real CLI process, whose Interrupted a library wrapped in its own
    error on the way up: one line "interrupted" and exit 128 + signal, not a traceback or a
    store error's exit 1."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", WRAPPING_APP.format(signal=signum, wrapper=wrapper)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 128 + getattr(signal, signum), (done.returncode, done.stderr)
    assert done.stderr.strip() == "interrupted", done.stderr


@pytest.mark.parametrize(("hold", "stops"), [(True, 1), (True, 2), (False, 1)])
def test_a_stop_while_the_process_exits_lets_the_exit_finish(hold, stops):
    """A stop that arrives after the work, while exit functions run (the JVM's shutdown), lets the exit
    finish with its own code; a second one ends the process at once with 128 + signal. Without the
    hold the first signal killed it where it stood (-15), which a fast ingest met in a randomized
    signal test."""
    script = (
        "import atexit, os, signal, sys\n"
        "from graphmem.signals import hold_stops_until_exit\n"
        f"if {hold}: hold_stops_until_exit()\n"
        "atexit.register(lambda: print('exit functions ran to the end', flush=True))\n"
        f"atexit.register(lambda: [os.kill(os.getpid(), signal.SIGTERM) for _ in range({stops})])  # a stop while exiting\n"
        "print('work done', flush=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert "work done" in done.stdout
    if not hold:
        assert done.returncode == -signal.SIGTERM
    elif stops == 1:
        assert done.returncode == 0 and "exit functions ran to the end" in done.stdout, done
    else:
        assert done.returncode == 128 + signal.SIGTERM and "ran to the end" not in done.stdout, done


def test_a_stop_inside_a_deferring_block_is_raised_when_it_ends():
    """A stop that comes while stops_deferred() runs (loading native code that an exception
    cannot unwind through: torch's import aborted the process) is held: the block's code runs
    to its end, and the stop is raised right after it, as if it came then."""
    from graphmem.signals import stops_deferred

    finished = []
    with pytest.raises(Interrupted) as caught:
        with stop_on_signals():
            with stops_deferred():
                signal.raise_signal(signal.SIGTERM)
                for _ in range(3 * 10**6):  # the watch asks again every 20 ms meanwhile: still held
                    pass
                finished.append("block")
            for _ in range(10**7):  # far longer than the watch's interval: the held stop comes here
                pass
            pytest.fail("the held stop was lost")
    assert finished == ["block"] and caught.value.exit_code == 143


LIBRARY_DEFERRING = """
import os, signal, sys, traceback
from graphmem.signals import stops_deferred
mode = sys.argv[1]
if mode == "own":
    signal.signal(signal.SIGINT, lambda signum, frame: print("own handler", flush=True))
finished = []
try:
    with stops_deferred():
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the load runs
        for _ in range(10**6):
            pass
        finished.append("load")
    print("no interrupt", finished, flush=True)
except KeyboardInterrupt as exc:
    print("KeyboardInterrupt", finished, traceback.extract_tb(exc.__traceback__)[-1].name, flush=True)
print("default handler back:", signal.getsignal(signal.SIGINT) is signal.default_int_handler, flush=True)
"""


@pytest.mark.parametrize("mode", ["default", "own"])
def test_ctrl_c_in_a_library_users_process_waits_for_a_deferring_block(mode):
    """In a library user's process (no stop_on_signals), Ctrl-C inside stops_deferred() raised
    KeyboardInterrupt inside the load (torch's import: torch was left half imported, or the process
    crashed). It is now held: the block runs to its end, KeyboardInterrupt is raised as it ends, and
    Python's handler is back. A handler of the user's own is left alone (called at once)."""
    done = subprocess.run([sys.executable, "-c", LIBRARY_DEFERRING, mode], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    if mode == "default":
        assert done.stdout.splitlines() == ["KeyboardInterrupt ['load'] stops_deferred", "default handler back: True"]
    else:
        assert done.stdout.splitlines() == ["own handler", "no interrupt ['load']", "default handler back: False"]


HANGUP = (
    "import os, signal, time\n"
    "import graphmem.cli as cli\n"
    "def app():\n"
    "    os.kill(os.getpid(), signal.SIGHUP)  # the terminal closed\n"
    "    time.sleep(5)\n"
    "    print('outlived the hangup', flush=True)\n"
    "cli.app = app\n"
    "cli.main()\n")


def test_a_hangup_stops_the_cli_cleanly():
    """SIGHUP (the terminal or ssh session closed) killed `graphmem serve`, `ingest` and `mcp` at
    once (exit -1: no rollback, no store closed, requests in flight reset). It is now a stop like
    SIGTERM: "interrupted", exit 129."""
    done = subprocess.run([sys.executable, "-c", HANGUP], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 128 + signal.SIGHUP, done
    assert done.stderr.strip() == "interrupted" and done.stdout == "", done


def test_a_hangup_ignored_as_under_nohup_stays_ignored():
    """Started with SIGHUP ignored (nohup), the CLI is meant to outlive its terminal: it does."""
    done = subprocess.run([sys.executable, "-c", HANGUP.replace("time.sleep(5)", "time.sleep(0.5)")], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)},
                          preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    assert done.returncode == 0 and done.stdout == "outlived the hangup\n", done


FAILING_APP = """
import typer
from graphmem import cli

app = typer.Typer()

@app.command()
def search():
    with cli._errors():  # a defect inside a command: np.load of an empty cache file raises EOFError
        raise {error}("No data left in file")

cli.app = app
cli.main()
"""


@pytest.mark.parametrize("error", ["EOFError", "RuntimeError"])
def test_the_cli_names_an_unexpected_error_instead_of_a_bare_aborted(error):
    """An error that is no graphmem error ends in a line naming it (after its traceback), exit 1:
    Click turned an EOFError into "Aborted." alone, which an empty cache file made of every search."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", FAILING_APP.format(error=error)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 1, (done.returncode, done.stderr)
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: unexpected {error}: No data left in file"), done.stderr
    assert "Aborted" not in done.stderr and "Traceback" in done.stderr


def test_the_cli_keeps_a_commands_own_exit_code():
    """``raise typer.Exit(1)`` inside ``_errors`` (``check`` finding damage) is the command's exit,
    not an unexpected error."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    app = FAILING_APP.replace('raise {error}("No data left in file")', 'print("damage found"); raise typer.Exit(3)')
    done = subprocess.run([sys.executable, "-c", app], capture_output=True, text=True, env=env, timeout=120)
    assert (done.returncode, done.stdout.strip(), done.stderr.strip()) == (3, "damage found", ""), done.stderr
