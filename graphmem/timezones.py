"""The calendar a memory's user lives in (:attr:`graphmem.settings.Settings.timezone`).

graphmem stores every time as naive UTC (ISO 8601 text without an offset), so that the
times of one memory always compare. The user's time zone says how to read and show them:

* a time given without an offset (a message's ``timestamp``, ``session_started_at``, the
  dates of an ingested file, a search's ``as_of`` and ``time_range``, ``forget(before=)``) is
  a wall-clock time in that zone; a time with an offset is that instant;
* a message's relative time expressions ("yesterday", "last Saturday") resolve against the
  day it was said there, and a question's against the day it is asked there;
* the days and months a question names ("last Saturday", "in May") are matched against the
  days and months, there, on which turns were said;
* hits show their times with the zone's offset (``2024-03-16T21:30:00-04:00``).

The default, UTC, keeps every time as it is given and shown naive. A file whose dates carry
no offset (LoCoMo, LongMemEval) reads the same days and times whatever the zone: its dates
are read in the zone and their calendar is computed in it again.

Everything here takes the zone as a :class:`~datetime.tzinfo`, ``None`` standing for UTC
(:func:`zone` gives ``None`` for ``"UTC"``, so the default costs nothing).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from graphmem.errors import ConfigurationError, InputError

__all__ = ["UTC_NAME", "LOCAL_NAME", "DAY_SECONDS", "system_zone_name", "zone", "to_stored", "to_local", "local_date",
           "shown", "local_seconds", "zone_name"]

UTC_NAME = "UTC"
"""The default time zone: naive times are UTC."""

DAY_SECONDS = 86400
"""Seconds in a calendar day (epoch seconds over it, floored: days since 1970-01-01)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_DAY = DAY_SECONDS


LOCAL_NAME = "local"
"""The time zone name that stands for this machine's own zone (see :func:`system_zone_name`)."""


def system_zone_name(environ: Mapping[str, str] | None = None, localtime: str = "/etc/localtime") -> str | None:
    """The IANA name of this machine's time zone: ``$TZ`` when it names one, else the zone
    ``/etc/localtime`` links to (``.../zoneinfo/Europe/Berlin``), else ``/etc/timezone``'s;
    ``None`` when none of them says."""
    env = os.environ if environ is None else environ
    named = env.get("TZ", "").strip().lstrip(":")
    if named and not named.startswith("/"):
        return named
    if "/zoneinfo/" in named:  # TZ=/usr/share/zoneinfo/Asia/Tokyo names its zone by its file
        return named.split("/zoneinfo/", 1)[1]
    try:
        target = os.path.realpath(localtime)
    except OSError:
        target = ""
    if "/zoneinfo/" in target:
        return target.split("/zoneinfo/", 1)[1]
    try:
        with open(os.path.join(os.path.dirname(localtime), "timezone"), encoding="utf-8") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


@functools.lru_cache(maxsize=64)
def zone(name: str) -> tzinfo | None:
    """The zone called ``name`` (an IANA name such as ``"Europe/Berlin"``, or ``"local"`` for
    this machine's zone), ``None`` for UTC.

    Raises:
        ConfigurationError: ``name`` is no time zone this machine knows.
    """
    if not isinstance(name, str) or not name.strip():
        raise ConfigurationError(f"timezone: expected an IANA time zone name such as 'Europe/Berlin', got {name!r}")
    key = name.strip()
    if key.lower() in (LOCAL_NAME, "localtime"):  # ("localtime" is tzdata's link to this machine's /etc/localtime)
        found = system_zone_name()
        if found is None:
            raise ConfigurationError("timezone 'local': this machine names no time zone ($TZ, /etc/localtime); "
                                     "give an IANA name such as 'Europe/Berlin'")
        key = found
    if key.upper() in (UTC_NAME, "ETC/UTC", "UCT", "ETC/UCT", "ZULU", "ETC/ZULU", "UNIVERSAL", "ETC/UNIVERSAL"):
        return None
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a folder ("America"), a name too long
        raise ConfigurationError(f"timezone: {name[:80]!r} is not a time zone name (an IANA name such as "
                                 f"'Europe/Berlin' or 'America/New_York', 'local' or 'UTC')") from exc


def zone_name(name: object) -> str:
    """``name`` as it is stored: an IANA name (``"local"`` resolved to this machine's zone, every
    spelling of UTC as ``"UTC"``).

    Raises:
        InputError: not a time zone name this machine knows.
    """
    if not isinstance(name, str):
        raise InputError(f"timezone: expected an IANA time zone name such as 'Europe/Berlin', got {name!r}")
    try:
        found = zone(name)
    except ConfigurationError as exc:
        raise InputError(str(exc)) from exc
    if found is None:
        return UTC_NAME
    if name.strip().lower() in (LOCAL_NAME, "localtime"):
        return str(system_zone_name())
    return str(getattr(found, "key", name.strip()))


def to_stored(value: datetime, tz: tzinfo | None) -> datetime:
    """``value`` as it is stored: naive UTC. A naive ``value`` is a wall-clock time in ``tz``."""
    if value.tzinfo is None:
        if tz is None:
            return value
        value = value.replace(tzinfo=tz)
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def to_local(value: datetime, tz: tzinfo | None) -> datetime:
    """A stored time (naive UTC) as the wall-clock time in ``tz`` (naive)."""
    if tz is None:
        return value
    try:
        return value.replace(tzinfo=timezone.utc).astimezone(tz).replace(tzinfo=None)
    except (OverflowError, ValueError):  # within a day of year 1 or 9999: the UTC time stands
        return value


def local_date(seconds: float | None, tz: tzinfo | None) -> date | None:
    """The day in ``tz`` of an instant given in epoch seconds (``None`` for ``None``)."""
    if seconds is None:
        return None
    return to_local((_EPOCH + timedelta(seconds=seconds)).replace(tzinfo=None), tz).date()


def shown(stored: str | None, tz: tzinfo | None) -> str | None:
    """A stored time (naive UTC ISO text) as a hit shows it: unchanged for UTC, else with
    ``tz``'s offset (with UTC's, ``+00:00``, where the zone's wall clock would leave years 1-9999: a
    naive time would read as one in the zone). Text that is no time is shown as it is."""
    if tz is None or not isinstance(stored, str) or not stored:
        return stored
    try:
        moment = datetime.fromisoformat(stored)
    except ValueError:
        return stored
    if moment.tzinfo is not None:
        return stored
    try:
        return moment.replace(tzinfo=timezone.utc).astimezone(tz).isoformat()
    except (OverflowError, ValueError):  # within a day of year 1 or 9999: the instant in UTC, saying so
        return moment.replace(tzinfo=timezone.utc).isoformat()


def _offset(seconds: float, tz: tzinfo) -> float:
    try:
        found = datetime.fromtimestamp(seconds, tz).utcoffset()
    except (OverflowError, ValueError, OSError):
        return 0.0
    return found.total_seconds() if found is not None else 0.0


@functools.lru_cache(maxsize=1 << 16)
def _day_offsets(tz: tzinfo, day: int) -> tuple[float, float]:
    return _offset(day * _DAY, tz), _offset(day * _DAY + _DAY - 1, tz)


def local_seconds(seconds: np.ndarray, tz: tzinfo | None) -> np.ndarray:
    """Epoch seconds (NaN: unknown) moved by each instant's offset in ``tz``, so that their
    whole days and months are the days and months of the calendar there.

    The offset is looked up once per UTC day (cached), and per instant only on a day when
    the zone's offset changes (a daylight-saving switch)."""
    if tz is None or not len(seconds):
        return seconds
    out = np.array(seconds, dtype=np.float64, copy=True)
    finite = np.isfinite(out)
    if not finite.any():
        return out
    values = out[finite]
    days, inverse = np.unique(np.floor(values / _DAY).astype(np.int64), return_inverse=True)
    bounds = np.array([_day_offsets(tz, int(day)) for day in days.tolist()], dtype=np.float64).reshape(-1, 2)
    offsets = bounds[inverse, 0]
    for i in np.flatnonzero(bounds[inverse, 0] != bounds[inverse, 1]).tolist():  # a switch that day
        offsets[i] = _offset(float(values[i]), tz)
    out[finite] = values + offsets
    return out
