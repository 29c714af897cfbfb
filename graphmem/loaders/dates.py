"""Lenient parsing of the date strings conversation sources carry."""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from graphmem.errors import InputError

__all__ = ["parse_datetime", "epoch_time", "epoch_text"]


def epoch_time(value: int | float, where: str) -> datetime:
    """The instant ``value`` seconds after 1970-01-01 UTC (a Unix time, as chat logs and SDKs
    give a message's time: OpenAI's ``created``), aware in UTC; a whole number of 12 or 14
    digits that is a compact date and time (``202403161030``) is that time, naive, as its text is.

    Raises:
        InputError: not finite, or outside the years 1-9999 (milliseconds are named as the
            likely cause), naming ``where``.
    """
    if not math.isfinite(value):
        raise InputError(f"{where}: not a time: {value!r}")
    if isinstance(value, int) and _COMPACT.fullmatch(str(value)):  # (a Unix time of 12 digits is past the year 5138)
        compact = parse_datetime(str(value))
        if compact is not None:
            return compact
    try:
        return datetime.fromtimestamp(value, timezone.utc)
    except (OverflowError, OSError, ValueError):
        hint = " (milliseconds? a Unix time is in seconds)" if abs(value) > 1e11 else ""
        raise InputError(f"{where}: {value!r} seconds since 1970 is outside the years 1-9999{hint}") from None


_UNIX_TEXT = re.compile(r"-?\d{9,}(?:\.\d+)?")
_COMPACT = re.compile(r"((?:19|20)\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])([01]\d|2[0-3])([0-5]\d)([0-5]\d)?")


def epoch_text(value: str) -> float | None:
    """The Unix time a text holds, as Slack's ``ts`` (``"1710624600.000200"``) and other exports
    write one: nine or more digits (1973 on; ISO 8601's basic dates, ``"20240316"``, have eight),
    with or without a fraction; ``None`` for any other text, and for a compact date and time of
    12 or 14 digits (``"202403161030"``: 16 March 2024, 10:30, not a time in the year 8383)."""
    text = value.strip()
    if _COMPACT.fullmatch(text):
        return None
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
    text = value.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    compact = _COMPACT.fullmatch(text)
    if compact:  # "202403161030", "20240316103000" (dateutil read a lone number as a day of this month)
        try:
            year, month, day, hour, minute, second = (int(part or 0) for part in compact.groups())
            return datetime(year, month, day, hour, minute, second)
        except ValueError:  # 31 February
            return None
    where: tzinfo | None = None
    place = _ZONE_NAME.search(text)
    if place is not None:  # "10:00 Asia/Tokyo", "10:00[Europe/Berlin]": fuzzy parsing passed the name over
        try:
            where = ZoneInfo(place[1])
        except (ValueError, ZoneInfoNotFoundError):
            return None  # "Europe/Atlantis": a zone it cannot read is no date it can store (hours off)
        text = text[:place.start()] + " " + text[place.end():]
    # "GMT+0100" (JavaScript's Date.toString()), "UTC+02:00": dateutil reads a sign after GMT/UTC the
    # POSIX way, inverted (GMT+1 was stored as UTC-1): written as the plain offset it means
    text = _AFTER_UTC.sub(lambda m: f" {m[1]}{int(m[2]):02d}:{m[3] or '00'}", text)
    parsed = _fuzzy(text)
    if parsed is None:
        return None
    if parsed.tzinfo is None and where is not None:  # the wall-clock time in that zone (an offset given wins)
        parsed = parsed.replace(tzinfo=where)
    elif parsed.tzinfo is None and _ZONE_WORDS.search(text):  # "Pacific Time": a zone by words it cannot read
        return None
    return parsed


#: A sign after GMT or UTC, with hours and maybe minutes: an offset east (+) or west (-) of UTC.
_AFTER_UTC = re.compile(r"\b(?:GMT|UTC)\s*([+-])(\d{1,2})(?::?(\d{2}))?\b")
#: An IANA zone name ("America/New_York", "Etc/GMT+5"), maybe in brackets as RFC 9557 writes it: one
#: of the zone database's areas, a slash and a place (not "10/Mar/2024", "Gmail/iPhone").
_ZONE_NAME = re.compile(r"\[?\b((?:Africa|America|Antarctica|Arctic|Asia|Atlantic|Australia|Brazil|Canada|Chile|Etc|"
                        r"Europe|Indian|Mexico|Pacific|US)(?:/[A-Za-z0-9_+-]+)+)\]?")
#: A zone named in words, which no offset can be read from: any "<Name> Standard|Daylight|Summer Time"
#: ("Singapore Standard Time", "Israel Daylight Time"), and the zones named without it ("Pacific Time",
#: "Brasilia Time"; not a label such as "Local Time" or "Start Time").
_ZONE_WORDS = re.compile(r"\b[A-Z][A-Za-z]+\s+(?:Standard|Daylight|Summer)\s+Time\b|"
                         r"\b(?:Pacific|Eastern|Central|Mountain|Atlantic|Alaska|Hawaii|Greenwich\s+Mean|Brasilia|Moscow|"
                         r"(?:Central|Eastern|Western)\s+European|Australian\s+(?:Eastern|Central|Western)|Coordinated\s+Universal)"
                         r"\s+Time\b")


def _fuzzy(text: str) -> datetime | None:
    from dateutil import parser as date_parser  # lazy: only loaders need it
    import warnings

    try:  # fuzzy: the words around a date ("on", "(Sat)") are passed over
        with warnings.catch_warnings():
            # a zone abbreviation dateutil does not know ("PST") was dropped with a warning and the
            # time read as UTC, hours off: the common ones are known below, any other is no date
            warnings.simplefilter("error", date_parser.UnknownTimezoneWarning)
            # a date written with dots ("12.03.2024", German, Russian, Polish, Turkish) is day first: read
            # month first, 12.03.2024 was the 3rd of December and 13.03.2024 the 13th of March
            dayfirst = _DOTTED_DATE.search(text) is not None
            parsed = date_parser.parse(text, fuzzy=True, default=_DEFAULTS[0], tzinfos=_ZONE_ABBREVIATIONS, dayfirst=dayfirst)
            again = date_parser.parse(text, fuzzy=True, default=_DEFAULTS[1], tzinfos=_ZONE_ABBREVIATIONS, dayfirst=dayfirst)
        parsed.utcoffset()  # an offset of a day or more ("+25:00") is no offset: ValueError
    except (ValueError, OverflowError, date_parser.UnknownTimezoneWarning):
        return None
    if parsed.date() != again.date():  # the text does not say the year, month and day ("12", "1e10", "5pm")
        return None
    return parsed


#: A day, month and year written with dots ("12.03.2024", "5.4.24"), not a version or a year first.
_DOTTED_DATE = re.compile(r"(?<![\d.])\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})(?![\d.])")

#: Zone abbreviations a date may end with that name one offset (North American and European ones; an
#: ambiguous one such as IST or CST outside North America is read as listed here only where listed).
_ZONE_ABBREVIATIONS = {name: hours * 3600 for name, hours in (
    ("EST", -5), ("EDT", -4), ("CST", -6), ("CDT", -5), ("MST", -7), ("MDT", -6), ("PST", -8), ("PDT", -7),
    ("AKST", -9), ("AKDT", -8), ("HST", -10), ("WET", 0), ("WEST", 1), ("CET", 1), ("CEST", 2), ("EET", 2), ("EEST", 3))}

#: Two days no part of which agree: where a parse's date depends on which was the default, the text
#: did not give that part (dateutil fills in the default's, which was today's: "12" was the 12th of
#: this month, "1e10" the 10th of January this year).
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))
