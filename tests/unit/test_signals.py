"""Stop signals in the process that owns them (graphmem.signals), delivered to this test process."""

from __future__ import annotations

import gc
import signal
import sys
import weakref

import pytest

from graphmem.signals import Interrupted, stop_on_signals


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
