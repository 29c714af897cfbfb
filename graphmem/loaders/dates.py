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
    try:  # fuzzy: the words around a date ("on", "(Sat)") are passed over
        parsed = date_parser.parse(text, fuzzy=True, default=_DEFAULTS[0])
        again = date_parser.parse(text, fuzzy=True, default=_DEFAULTS[1])
        parsed.utcoffset()  # an offset of a day or more ("+25:00") is no offset: ValueError
    except (ValueError, OverflowError):
        return None
    if parsed.date() != again.date():  # the text does not say the year, month and day ("12", "1e10", "5pm")
        return None
    return parsed


#: Two days no part of which agree: where a parse's date depends on which was the default, the text
#: did not give that part (dateutil fills in the default's, which was today's: "12" was the 12th of
#: this month, "1e10" the 10th of January this year).
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))
