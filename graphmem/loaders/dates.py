"""Lenient parsing of the date strings conversation sources carry."""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone

from graphmem.errors import InputError

__all__ = ["parse_datetime", "epoch_time", "epoch_text"]


def epoch_time(value: int | float, where: str) -> datetime:
    """The instant ``value`` seconds after 1970-01-01 UTC (a Unix time, as chat logs and SDKs
    give a message's time: OpenAI's ``created``), aware in UTC.

    Raises:
        InputError: not finite, or outside the years 1-9999 (milliseconds are named as the
            likely cause), naming ``where``.
    """
    if not math.isfinite(value):
        raise InputError(f"{where}: not a time: {value!r}")
    try:
        return datetime.fromtimestamp(value, timezone.utc)
    except (OverflowError, OSError, ValueError):
        hint = " (milliseconds? a Unix time is in seconds)" if abs(value) > 1e11 else ""
        raise InputError(f"{where}: {value!r} seconds since 1970 is outside the years 1-9999{hint}") from None


_UNIX_TEXT = re.compile(r"-?\d{9,}(?:\.\d+)?")


def epoch_text(value: str) -> float | None:
    """The Unix time a text holds, as Slack's ``ts`` (``"1710624600.000200"``) and other exports
    write one: nine or more digits (1973 on; ISO 8601's basic dates, ``"20240316"``, have eight),
    with or without a fraction; ``None`` for any other text."""
    text = value.strip()
    return float(text) if _UNIX_TEXT.fullmatch(text) else None


def parse_datetime(value: object) -> datetime | None:
    """Parse a source date such as ``"1:56 pm on 8 May, 2023"``, ISO 8601 or
    ``"2023/05/20 (Sat) 02:21"``; ``None`` when it is not a recognisable date.

    A value with an offset keeps it (aware); one without stays naive. :func:`graphmem.loaders.load`
    stores both as naive UTC, reading a naive one in the memory's time zone
    (:func:`graphmem.records.stored_times`).
    """
    if not isinstance(value, str) or not value.strip():
        return None
    from dateutil import parser as date_parser  # lazy: only loaders need it

    text = value.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    import warnings

    try:  # fuzzy: the words around a date ("on", "(Sat)") are passed over
        with warnings.catch_warnings():
            # a zone abbreviation dateutil does not know ("PST") was dropped with a warning and the
            # time read as UTC, hours off: the common ones are known below, any other is no date
            warnings.simplefilter("error", date_parser.UnknownTimezoneWarning)
            parsed = date_parser.parse(text, fuzzy=True, default=_DEFAULTS[0], tzinfos=_ZONE_ABBREVIATIONS)
            again = date_parser.parse(text, fuzzy=True, default=_DEFAULTS[1], tzinfos=_ZONE_ABBREVIATIONS)
        parsed.utcoffset()  # an offset of a day or more ("+25:00") is no offset: ValueError
    except (ValueError, OverflowError, date_parser.UnknownTimezoneWarning):
        return None
    if parsed.date() != again.date():  # the text does not say the year, month and day ("12", "1e10", "5pm")
        return None
    return parsed


#: Zone abbreviations a date may end with that name one offset (North American and European ones; an
#: ambiguous one such as IST or CST outside North America is read as listed here only where listed).
_ZONE_ABBREVIATIONS = {name: hours * 3600 for name, hours in (
    ("EST", -5), ("EDT", -4), ("CST", -6), ("CDT", -5), ("MST", -7), ("MDT", -6), ("PST", -8), ("PDT", -7),
    ("AKST", -9), ("AKDT", -8), ("HST", -10), ("WET", 0), ("WEST", 1), ("CET", 1), ("CEST", 2), ("EET", 2), ("EEST", 3))}

#: Two days no part of which agree: where a parse's date depends on which was the default, the text
#: did not give that part (dateutil fills in the default's, which was today's: "12" was the 12th of
#: this month, "1e10" the 10th of January this year).
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))
