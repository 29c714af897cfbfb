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
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = date_parser.parse(text, fuzzy=True)
        except (ValueError, OverflowError):
            return None
    return parsed
