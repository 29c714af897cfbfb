"""Lenient parsing of the date strings conversation sources carry."""

from __future__ import annotations

from datetime import datetime

__all__ = ["parse_datetime"]


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
