"""Resolve time expressions in chat text against the session's date.

``find_time_expressions`` finds expressions such as "yesterday", "last Saturday",
"two weeks ago", "next month", "last summer", "May 7, 2023" or "in 2022" and turns each
into a :class:`TimeRef`: the date range it denotes, inclusive at both ends, resolved
against an *anchor* (the date the text was said, normally the session's start time).

Conventions (documented here because English is vague about them):

* Weeks run Monday to Sunday. "last week" is the previous Monday-Sunday week, "this week"
  the current one, "next week" the following one. Weekends are that week's Saturday and
  Sunday, so "last weekend" is the Saturday-Sunday of the previous week.
* "last <weekday>" is the most recent such day strictly before the anchor; "next <weekday>"
  the first one strictly after it; "this <weekday>" the one in the anchor's week.
* A plain weekday ("on Saturday"), a month without a year ("in June", "May 7"), a season
  ("in the summer") and "the weekend" refer to the most recent one not after the anchor,
  unless the sentence is clearly about the future (the nearest tense cue before the
  expression is "will", "'ll", "gonna", "going to", "plan to", "can't wait", "next", ...),
  in which case they refer to the next one.
* "N days ago" is one day; "N weeks/months/years ago" is the whole calendar week, month or
  year containing that point; "in N days/weeks/..." likewise forwards. Vague counts are
  ranges: "a couple of" = 2, "a few" = 2 to 4, "several" = 3 to 7.
* "the past/last N days|weeks|..." is the rolling range ending on the anchor.
* A capitalised season followed by a capitalised word opens a name, not a time ("the Spring
  Fling Market", "the Winter Olympics").
* Seasons are meteorological, northern hemisphere: spring = March-May, summer =
  June-August, fall/autumn = September-November, winter = December-February.
  "last summer" is the most recent summer that is over (or, if it is summer now, last
  year's); "this summer" the one of the anchor's year; "next summer" the next one to start.
* "early/mid/late <month>" are days 1-10, 11-20 and 21-end.
* Numeric dates are ISO ``YYYY-MM-DD``, ``YYYY/MM/DD``, US ``M/D/YYYY``, day-first ``D/M/YYYY`` where
  the first number can be no month ("14/3/2023"), or dotted day-first ``D.M.YYYY``.
* "on the 14th" (a day of the month alone, not "on the 14th floor") is the most recent 14th, or the
  next in future context.
* "the other day" is the week before the anchor (1 to 7 days ago).
* "N weekends ago" is the Saturday-Sunday of the week N weeks back ("two weekends ago" is the
  weekend before last weekend); a fortnight is two weeks; "the week (weekend, month, year)
  before last" is two of them back, "the Friday before last" the Friday a week before last Friday.
* Holidays, after a preposition or last/this/next ("on Christmas Eve", "over Thanksgiving",
  "last Halloween"): Christmas Eve and Day, New Year's Eve and Day, Valentine's Day, Easter
  (Western), Mother's Day and Father's Day (US: second Sunday of May, third Sunday of June),
  Memorial Day, the Fourth of July / Independence Day, Labor Day, Halloween and Thanksgiving
  (US: fourth Thursday of November). Like a month name, a plain one is the most recent not
  after the anchor unless the sentence is about the future. A bare holiday word ("Christmas
  presents") is not a time.
* "the beginning / start / middle / end of the (this, last, next) week, month or year" is
  that part of it (days 1-10, 11-20, the last 10 of a month; January-April, May-August,
  September-December of a year; Monday-Tuesday, Wednesday-Thursday, Friday-Sunday of a week).

Clock times ("at 3 pm") and unresolvable words ("recently", "lately") are not returned.
"""

from __future__ import annotations

import calendar
import logging
import re
from functools import lru_cache
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

__all__ = ["TimeRef", "find_time_expressions", "find_time_spans", "parse_session_datetime", "states_age",
           "states_duration", "states_frequency"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimeRef:
    """A time expression found in a text and the inclusive date range it denotes.

    Attributes:
        expression: the expression as written in the text.
        start: first day of the range.
        end: last day of the range (equal to ``start`` for a single day).
        char_start: offset of the expression's first character in the text.
        char_end: offset just past its last character.
    """

    expression: str
    start: date
    end: date
    char_start: int
    char_end: int

    @property
    def is_day(self) -> bool:
        """True when the expression denotes one single day."""
        return self.start == self.end


# --------------------------------------------------------------------------- vocabulary

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "a": 1, "an": 1,
}
_VAGUE = {"a couple of": (2, 2), "a couple": (2, 2), "couple of": (2, 2), "couple": (2, 2), "a few": (2, 4),
          "few": (2, 4), "several": (3, 7), "a couple of few": (2, 4)}

_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11,
    "nov": 11, "december": 12, "dec": 12,
}
_WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5,
    "sat": 5, "sunday": 6, "sun": 6,
}
_SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}  # first month

_NUMBER_WORD = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))  # longest first: "seventeen" before "seven"
_NUM = r"(?:\d{1,3}|" + _NUMBER_WORD + ")"
_QTY = r"(?P<qty>a\s+couple(?:\s+of)?|couple(?:\s+of)?|a\s+few|few|several|" + _NUM + r")"
_UNIT = r"(?P<unit>minute|hour|day|weekend|week|fortnight|month|year)s?"
_FULL_WEEKDAY = r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_ANY_WEEKDAY = (r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
                r"(?:tues|tue|wed|thurs|thur|thu|fri|mon|sat|sun)(?:\.(?!\s*(?:$|[A-Z])))?)")
# "May" is only a month when capitalised; the rest are case-insensitive.
_MONTH = (r"(?P<mon>january|february|march|april|(?-i:May)|june|july|august|september|october|"
          r"november|december|"
          r"(?:jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)(?:\.(?!\s*(?:$|[A-Z])))?)")
_MONTH_FULL = (r"(?P<mon>january|february|march|april|(?-i:May)|june|july|august|september|"
               r"october|november|december)")
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_SEASON = r"(?P<season>spring|summer|fall|autumn|winter)"
_PART_OF_DAY = r"(?:\s+(?:morning|afternoon|evening|night))?"

_FUTURE_CUES = re.compile(
    r"(?:\b(?:i\s+am|we\s+are|(?:i|we|you|they)['\u2019](?:m|re)|(?:he|she)\s+is|(?:he|she)['\u2019]s)\s+"
    r"(?:flying|leaving|moving|visiting|travell?ing|driving|meeting|seeing|starting|having|getting|heading|"
    r"taking|doing|attending|hosting|throwing|coming|returning)\b)|"  # a plan in the present progressive
    r"\b(?:will|shall|gonna|wanna|going\s+to|plan(?:ning|s)?(?:\s+to|\s+for|\s+on)?|"
    r"hop(?:e|ing)\s+to|can'?t\s+wait|cannot\s+wait|look(?:ing)?\s+forward|upcoming|"
    r"about\s+to|intend|scheduled|next|tomorrow|soon|later|see\s+(?:you|ya))\b|'ll\b|\u2019ll\b",
    re.IGNORECASE,
)
_PAST_CUES = re.compile(
    r"\b(?:was\s+going\s+to|were\s+going\s+to|was|were|did|had|went|got|made|took|saw|came|"
    r"met|been|ago|yesterday|last)\b",
    re.IGNORECASE,
)

# right before a date, a present tense that schedules it: "the race is on April 14th",
# "off until June", "due by May 3" (the next such date, not the last one). Not the noun "run" ("I went
# for a run on March 3" was the next March 3) nor what "was due" ("It was due by March 3").
_SCHEDULED_BEFORE = re.compile(
    r"(?:\b(?:is|are|it'?s|starts?|begins?|opens?|closes?|ends?|runs|(?<!was\s)(?<!were\s)due)\s+(?:on|in|from|by)?|"
    r"(?<!due\s)\b(?:until|till|by))\s*(?:the\s+)?$",
    re.IGNORECASE,
)

# --------------------------------------------------------------------------- date arithmetic


def _week_start(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _week(d: date) -> tuple[date, date]:
    s = _week_start(d)
    return s, s + timedelta(days=6)


def _month(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _year(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def _season(year: int, first_month: int) -> tuple[date, date]:
    """The season starting in ``first_month`` of ``year`` (winter runs into the next year)."""
    start = date(year, first_month, 1)
    end_year, end_month = _add_months(year, first_month, 2)
    return start, _month(end_year, end_month)[1]


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


# --------------------------------------------------------------------------- context


@dataclass(frozen=True)
class _Context:
    anchor: date
    moment: datetime | None
    text: str


_CUE_REACH = 300
"""How far back (characters) a tense cue is looked for within the sentence."""


def _is_future(ctx: _Context, position: int) -> bool:
    """True when the nearest tense cue before ``position`` in its sentence is a future one."""
    # the sentence so far, at most _CUE_REACH characters of it: a text without sentence ends
    # (a list of dates) must not make every expression rescan everything before it
    low = max(0, position - _CUE_REACH)
    begin = max(low - 1, ctx.text.rfind(".", low, position), ctx.text.rfind("!", low, position),
                ctx.text.rfind("?", low, position), ctx.text.rfind("\n", low, position)) + 1
    window = ctx.text[begin:position]
    last_future = max((m.end() for m in _FUTURE_CUES.finditer(window)), default=-1)
    last_past = max((m.end() for m in _PAST_CUES.finditer(window)), default=-1)
    if last_future < 0 and last_past < 0:
        # "Saturday I'll go": look a little way after the expression too.
        after = ctx.text[position:position + 40]
        end = min((i for i in (after.find("."), after.find("!"), after.find("?")) if i >= 0),
                  default=len(after))
        after = after[:end]
        first_future = min((m.start() for m in _FUTURE_CUES.finditer(after)), default=10**6)
        first_past = min((m.start() for m in _PAST_CUES.finditer(after)), default=10**6)
        return first_future < first_past
    return last_future > last_past


def _quantity(text: str) -> tuple[int, int]:
    key = " ".join(text.lower().split())
    if key in _VAGUE:
        return _VAGUE[key]
    if key.isdigit():
        n = int(key)
        return n, n
    n = _NUMBER_WORDS[key]
    return n, n


def _shift_unit(ctx: _Context, unit: str, amount: int) -> tuple[date, date]:
    """The calendar unit (day/week/month/year) ``amount`` units away from the anchor."""
    a = ctx.anchor
    if unit in ("minute", "hour"):
        if ctx.moment is not None:
            delta = timedelta(minutes=amount) if unit == "minute" else timedelta(hours=amount)
            d = (ctx.moment + delta).date()
        else:
            d = a
        return d, d
    if unit == "day":
        d = a + timedelta(days=amount)
        return d, d
    if unit == "week":
        return _week(a + timedelta(weeks=amount))
    if unit == "fortnight":
        return _week(a + timedelta(weeks=2 * amount))
    if unit == "weekend":  # "two weekends ago": the Saturday-Sunday of the week two weeks back
        monday = _week_start(a + timedelta(weeks=amount))
        return monday + timedelta(days=5), monday + timedelta(days=6)
    if unit == "month":
        y, m = _add_months(a.year, a.month, amount)
        return _month(y, m)
    return _year(a.year + amount)


def _span_of(ctx: _Context, unit: str, lo: int, hi: int, sign: int) -> tuple[date, date]:
    first = _shift_unit(ctx, unit, sign * lo)
    second = _shift_unit(ctx, unit, sign * hi)
    return min(first[0], second[0]), max(first[1], second[1])


# --------------------------------------------------------------------------- resolvers

Range = tuple[date, date]
_Resolver = Callable[[re.Match[str], _Context], Range | None]


def _r_fixed_offset(days: int) -> _Resolver:
    def resolve(_m: re.Match[str], ctx: _Context) -> Range:
        d = ctx.anchor + timedelta(days=days)
        return d, d
    return resolve


def _r_simple_day(m: re.Match[str], ctx: _Context) -> Range:
    word = m.group("w").lower()
    offset = {"today": 0, "tonight": 0, "yesterday": -1, "tomorrow": 1}[word]
    d = ctx.anchor + timedelta(days=offset)
    return d, d


def _r_relative_period(m: re.Match[str], ctx: _Context) -> Range | None:
    rel = " ".join(m.group("rel").lower().split())
    period = m.group("period").lower()
    a = ctx.anchor
    step = {"last": -1, "this past": -1, "past": -1, "this": 0, "next": 1, "this coming": 1,
            "coming": 1}[rel]
    if period == "week":
        if rel in ("this past", "past"):
            return a - timedelta(days=7), a
        return _week(a + timedelta(weeks=step))
    if period == "weekend":
        if rel == "this past":
            return _recent_weekend(a)
        monday = _week_start(a + timedelta(weeks=step))
        return monday + timedelta(days=5), monday + timedelta(days=6)
    if period == "month":
        y, mo = _add_months(a.year, a.month, step)
        return _month(y, mo)
    if period == "year":
        if rel in ("this past", "past"):
            return a - timedelta(days=365), a
        return _year(a.year + step)
    return None


def _recent_weekend(a: date) -> Range:
    """The weekend containing ``a`` if it is a Saturday or Sunday, else the one before it."""
    if a.weekday() >= 5:
        saturday = _week_start(a) + timedelta(days=5)
    else:
        saturday = _week_start(a) - timedelta(days=2)
    return saturday, saturday + timedelta(days=1)


def _r_the_weekend(m: re.Match[str], ctx: _Context) -> Range:
    a = ctx.anchor
    if _is_future(ctx, m.start()):
        monday = _week_start(a) if a.weekday() < 5 else _week_start(a) + timedelta(weeks=1)
        return monday + timedelta(days=5), monday + timedelta(days=6)
    return _recent_weekend(a)


def _weekday_of(rel: str, target: int, a: date) -> date:
    """The day "``rel`` <weekday ``target``>" names, said on ``a`` ("last", "this", "next" ...)."""
    if rel in ("last", "this past", "past", "previous"):
        return a - timedelta(days=(a.weekday() - target) % 7 or 7)
    if rel == "this":
        return _week_start(a) + timedelta(days=target)
    return a + timedelta(days=(target - a.weekday()) % 7 or 7)  # next, this coming, coming


def _r_relative_weekday(m: re.Match[str], ctx: _Context) -> Range:
    rel = " ".join(m.group("rel").lower().split())
    d = _weekday_of(rel, _WEEKDAYS[m.group("wd").lower().rstrip(".")], ctx.anchor)
    return d, d


def _r_plain_weekday(m: re.Match[str], ctx: _Context) -> Range:
    target = _WEEKDAYS[m.group("wd").lower()]
    a = ctx.anchor
    if _scheduled(ctx, m.start()) or _is_future(ctx, m.start()):  # ("my flight is on Friday", as "is on March 8")
        d = a + timedelta(days=(target - a.weekday()) % 7 or 7)
    else:
        d = a - timedelta(days=(a.weekday() - target) % 7 or 7)
    return d, d


def _r_ago(m: re.Match[str], ctx: _Context) -> Range:
    lo, hi = _quantity(m.group("qty"))
    return _span_of(ctx, m.group("unit").lower(), lo, hi, -1)


def _r_in_future(m: re.Match[str], ctx: _Context) -> Range:
    lo, hi = _quantity(m.group("qty"))
    return _span_of(ctx, m.group("unit").lower(), lo, hi, 1)


def _base_day(m: re.Match[str], ctx: _Context) -> date:
    """The day a "from ..." expression counts from: today, tomorrow, yesterday, or the next
    such weekday ("a week from Friday": Friday is ahead; "next Friday" is the same day), or the
    weekday a "last" or "this" before it names, as "last Friday" alone names it."""
    word = m.group("base").lower()
    a = ctx.anchor
    if word in ("today", "tonight"):
        return a
    if word in ("tomorrow", "yesterday"):
        return a + timedelta(days=1 if word == "tomorrow" else -1)
    rel = " ".join((m.group("brel") or "next").lower().split())
    return _weekday_of(rel, _WEEKDAYS[m.group("wd").lower()], a)


def _r_from_day(m: re.Match[str], ctx: _Context) -> Range:
    """"a week from Friday", "two days from tomorrow", "the Friday after next": a day counted from
    another day. Days and weeks land on a day; months and years on that month or year."""
    a = ctx.anchor
    if m.group("qty") is None:  # "the Friday after next": a week after the next Friday
        d = _weekday_of("next", _WEEKDAYS[m.group("wd2").lower()], a) + timedelta(weeks=1)
        return d, d
    base = _base_day(m, ctx)
    lo, hi = _quantity(m.group("qty"))
    unit = m.group("unit").lower()
    step = {"minute": 0, "hour": 0, "day": 1, "week": 7, "weekend": 7, "fortnight": 14}.get(unit)
    if step is None:  # month, year
        return _span_of(_Context(base, None, ctx.text), unit, lo, hi, 1)
    return base + timedelta(days=step * lo), base + timedelta(days=step * hi)


def _r_within(m: re.Match[str], ctx: _Context) -> Range:
    _lo, hi = _quantity(m.group("qty"))
    unit = m.group("unit").lower()
    end = _shift_unit(ctx, unit, hi)[0] if unit in ("minute", "hour", "day") else None
    if end is None:
        days = {"week": 7, "weekend": 7, "fortnight": 14, "month": 30, "year": 365}[unit] * hi
        end = ctx.anchor + timedelta(days=days)
    return ctx.anchor, end


def _r_rolling_past(m: re.Match[str], ctx: _Context) -> Range:
    qty = m.group("qty")
    _lo, hi = _quantity(qty) if qty else (1, 1)
    unit = m.group("unit").lower()
    a = ctx.anchor
    if unit in ("minute", "hour"):
        return a, a
    if unit == "day":
        return a - timedelta(days=hi), a
    if unit == "weekend" and not qty:  # "the past weekend": the one just gone
        return _recent_weekend(a)
    if unit in ("week", "weekend", "fortnight"):
        return a - timedelta(weeks=hi * (2 if unit == "fortnight" else 1)), a
    if unit == "month":
        y, mo = _add_months(a.year, a.month, -hi)
        return _safe_date(y, mo, min(a.day, calendar.monthrange(y, mo)[1])) or a, a
    return _safe_date(a.year - hi, a.month, 28 if (a.month, a.day) == (2, 29) else a.day) or a, a


def _r_earlier_later(m: re.Match[str], ctx: _Context) -> Range:
    which = m.group("which").lower()
    period = m.group("period").lower()
    a = ctx.anchor
    if period == "week":
        start, end = _week(a)
    elif period == "month":
        start, end = _month(a.year, a.month)
    else:
        start, end = _year(a.year)
    return (start, a) if which == "earlier" else (a, end)


def _r_other_day(_m: re.Match[str], ctx: _Context) -> Range:
    return ctx.anchor - timedelta(days=7), ctx.anchor - timedelta(days=1)


def _season_occurrences(a: date, first_month: int) -> tuple[Range, Range, Range]:
    """(previous, current-or-next, following) occurrences of a season around ``a``."""
    # The occurrence that starts in the anchor's year, or for winter possibly the previous one.
    candidates = [_season(y, first_month) for y in (a.year - 2, a.year - 1, a.year, a.year + 1, a.year + 2)]
    current_index = next(i for i, (s, e) in enumerate(candidates) if e >= a)
    current = candidates[current_index]
    return candidates[current_index - 1], current, candidates[current_index + 1]


def _r_relative_season(m: re.Match[str], ctx: _Context) -> Range:
    rel = " ".join(m.group("rel").lower().split())
    first = _SEASONS[m.group("season").lower()]
    a = ctx.anchor
    previous, current, following = _season_occurrences(a, first)
    in_progress = current[0] <= a
    if rel in ("last", "this past", "past", "previous"):
        return previous
    if rel == "this":
        return current
    return following if in_progress else current  # next / this coming / coming


def _r_plain_season(m: re.Match[str], ctx: _Context) -> Range:
    first = _SEASONS[m.group("season").lower()]
    a = ctx.anchor
    previous, current, _following = _season_occurrences(a, first)
    if current[0] <= a or _is_future(ctx, m.start()):
        return current
    return previous


def _r_season_of_year(m: re.Match[str], _ctx: _Context) -> Range:
    return _season(int(m.group("year")), _SEASONS[m.group("season").lower()])


def _month_number(m: re.Match[str]) -> int:
    return _MONTHS[m.group("mon").lower().rstrip(".")]


def _scheduled(ctx: _Context, position: int) -> bool:
    """Whether a present tense right before ``position`` schedules the time there (:data:`_SCHEDULED_BEFORE`)."""
    return _SCHEDULED_BEFORE.search(ctx.text[max(0, position - 30):position]) is not None


def _year_for_month(ctx: _Context, month: int, day: int | None, position: int) -> int:
    """The year of the most recent (or, in future context, next) occurrence of a month/day."""
    a = ctx.anchor
    if _scheduled(ctx, position) or _is_future(ctx, position):
        if (month, day or 1) < (a.month, a.day if day else 1):
            return a.year + 1
        return a.year
    if (month, day or 1) > (a.month, a.day if day else 1):
        return a.year - 1
    return a.year


def _r_full_date(m: re.Match[str], ctx: _Context) -> Range | None:
    month = _month_number(m)
    day = int(m.group("day"))
    year_text = m.group("year")
    year = int(year_text) if year_text else _year_for_month(ctx, month, day, m.start())
    d = _safe_date(year, month, day)
    return (d, d) if d else None


def _r_month_year(m: re.Match[str], _ctx: _Context) -> Range:
    return _month(int(m.group("year")), _month_number(m))


def _narrow(span: Range, part: str | None) -> Range:
    if not part:
        return span
    start, end = span
    part = part.lower()
    if part == "early":
        return start, start + timedelta(days=9)
    if part in ("mid", "middle of"):
        return start + timedelta(days=10), start + timedelta(days=19)
    if part == "late":
        return start + timedelta(days=20), end
    if part in ("end of", "the end of"):
        return max(start, end - timedelta(days=9)), end
    if part in ("beginning of", "the beginning of", "start of", "the start of"):
        return start, start + timedelta(days=9)
    return span


def _r_relative_month_name(m: re.Match[str], ctx: _Context) -> Range:
    rel = " ".join(m.group("rel").lower().split())
    month = _month_number(m)
    a = ctx.anchor
    if rel == "last":
        year = a.year if month < a.month else a.year - 1
    elif rel == "this":
        year = a.year
    else:
        year = a.year if month > a.month else a.year + 1
    return _narrow(_month(year, month), m.group("part"))


def _r_month_name(m: re.Match[str], ctx: _Context) -> Range:
    month = _month_number(m)
    year = _year_for_month(ctx, month, None, m.start("mon"))  # after any preposition ("until June")
    return _narrow(_month(year, month), m.group("part"))


def _r_year(m: re.Match[str], _ctx: _Context) -> Range:
    return _narrow_year(_year(int(m.group("year"))), m.group("part"))


def _narrow_year(span: Range, part: str | None) -> Range:
    if not part:
        return span
    year = span[0].year
    part = part.lower()
    if part in ("early", "beginning of", "the beginning of", "start of", "the start of"):
        return date(year, 1, 1), date(year, 4, 30)
    if part in ("mid", "middle of"):
        return date(year, 5, 1), date(year, 8, 31)
    if part in ("late", "end of", "the end of"):
        return date(year, 9, 1), date(year, 12, 31)
    return span


def _r_iso(m: re.Match[str], _ctx: _Context) -> Range | None:
    d = _safe_date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
    return (d, d) if d else None


def _r_day_of_month(m: re.Match[str], ctx: _Context) -> Range | None:
    """"On the 14th": that day of the anchor's month when it is not after the anchor, else of the
    month before (the month after when the sentence speaks of the future)."""
    day, anchor = int(m.group("d")), ctx.anchor
    step = 1 if _is_future(ctx, m.start()) else -1
    index = anchor.year * 12 + anchor.month - 1  # months since year 0
    if (day - anchor.day) * step < 0:
        index += step  # this month's has passed (or is yet to come)
    for _ in range(3):  # a month without that day (the 31st) is passed over
        d = _safe_date(index // 12, index % 12 + 1, day)
        if d is not None:
            return d, d
        index += step
    return None


def _r_before_last(m: re.Match[str], ctx: _Context) -> Range:
    return _shift_unit(ctx, m.group("period").lower(), -2)


def _r_weekday_before_last(m: re.Match[str], ctx: _Context) -> Range:
    """"The Friday before last": the Friday a week before last Friday."""
    target = _WEEKDAYS[m.group("wd").lower()]
    d = ctx.anchor - timedelta(days=((ctx.anchor.weekday() - target) % 7 or 7) + 7)
    return d, d


def _part_of(span: Range, unit: str, part: str) -> Range:
    """The beginning / middle / end of a week, month or year."""
    part = " ".join(part.lower().split()).removeprefix("the ").removesuffix(" of")
    if unit == "year":
        return _narrow_year(span, part + " of")
    if unit == "month":
        return _narrow(span, part + " of")
    start = span[0]  # a week: Monday-Tuesday, Wednesday-Thursday, Friday-Sunday
    offset = {"beginning": (0, 1), "start": (0, 1), "middle": (2, 3), "end": (4, 6)}[part]
    return start + timedelta(days=offset[0]), start + timedelta(days=offset[1])


def _r_part_of_period(m: re.Match[str], ctx: _Context) -> Range:
    rel = " ".join((m.group("rel") or "this").lower().split())
    unit = m.group("period").lower()
    step = {"last": -1, "previous": -1, "this": 0, "next": 1, "the": 0}.get(rel, 0)
    return _part_of(_shift_unit(ctx, unit, step), unit, m.group("part"))


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The ``n``-th ``weekday`` (0 = Monday) of a month; ``n = -1``: the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _easter(year: int) -> date:
    """Western Easter Sunday (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


_HOLIDAYS: dict[str, Callable[[int], date]] = {
    "christmas eve": lambda y: date(y, 12, 24),
    "christmas": lambda y: date(y, 12, 25),
    "new year's eve": lambda y: date(y, 12, 31),
    "new year's": lambda y: date(y, 1, 1),
    "valentine's": lambda y: date(y, 2, 14),
    "easter": _easter,
    "mother's": lambda y: _nth_weekday(y, 5, 6, 2),
    "memorial": lambda y: _nth_weekday(y, 5, 0, -1),
    "father's": lambda y: _nth_weekday(y, 6, 6, 3),
    "independence": lambda y: date(y, 7, 4),
    "labor": lambda y: _nth_weekday(y, 9, 0, 1),
    "halloween": lambda y: date(y, 10, 31),
    "thanksgiving": lambda y: _nth_weekday(y, 11, 3, 4),
}


def _holiday_key(text: str) -> str:
    key = " ".join(text.lower().replace("\u2019", "'").split())
    key = re.sub(r"\s+day$", "", key) if not key.startswith("new year") else key
    if key.startswith("new year"):
        return "new year's eve" if key.endswith("eve") else "new year's"
    if key.startswith(("valentine", "mother", "father")):
        return key.split("'")[0].rstrip("s") + "'s"
    if key in ("fourth of july", "the fourth of july", "july 4th"):
        return "independence"
    return {"labour": "labor", "christmas day": "christmas", "easter sunday": "easter"}.get(key, key)


def _r_holiday(m: re.Match[str], ctx: _Context) -> Range | None:
    day_of = _HOLIDAYS.get(_holiday_key(m.group("holiday")))
    if day_of is None:
        return None
    a = ctx.anchor
    rel = " ".join((m.group("rel") or "").lower().split())
    this_year = day_of(a.year)
    if rel == "this":
        d = this_year
    elif rel in ("last", "this past", "past", "previous"):
        d = this_year if this_year < a else day_of(a.year - 1)
    elif rel in ("next", "this coming", "coming"):
        d = this_year if this_year > a else day_of(a.year + 1)
    elif _is_future(ctx, m.start()):
        d = this_year if this_year >= a else day_of(a.year + 1)
    else:
        d = this_year if this_year <= a else day_of(a.year - 1)
    return d, d



# --------------------------------------------------------------------------- rules

_F = re.IGNORECASE
_B = r"(?<![\w'\u2019])"  # no word character (or apostrophe) before
_E = r"(?![\w])"  # no word character after
_PART = r"(?:(?P<part>early|mid|late|(?:the\s+)?(?:end|beginning|start|middle)\s+of)[\s-]+)?"
_PART_REQUIRED = r"(?P<part>early|mid|late|(?:the\s+)?(?:end|beginning|start|middle)\s+of)[\s-]+"
_PREP = (r"(?:in|during|since|until|till|by|from|of|for|before|after|around|through|"
         r"back\s+in|circa)\s+")
_REL = r"(?P<rel>this\s+past|this\s+coming|last|next|this|coming|past)"

_RULES: tuple[tuple[re.Pattern[str], _Resolver], ...] = (
    (re.compile(_B + r"the\s+day\s+before\s+yesterday" + _E, _F), _r_fixed_offset(-2)),
    (re.compile(_B + r"the\s+day\s+after\s+tomorrow" + _E, _F), _r_fixed_offset(2)),
    (re.compile(_B + r"(?P<w>yesterday|today|tonight|tomorrow)" + _PART_OF_DAY + _E, _F),
     _r_simple_day),
    (re.compile(_B + r"this\s+(?:morning|afternoon|evening)" + _E, _F), _r_fixed_offset(0)),
    (re.compile(_B + r"last\s+night" + _E, _F), _r_fixed_offset(-1)),
    (re.compile(_B + r"the\s+other\s+day" + _E, _F), _r_other_day),
    (re.compile(_B + r"the\s+(?P<period>week|weekend|month|year)\s+before\s+last" + _E, _F), _r_before_last),
    (re.compile(_B + r"(?:on\s+)?the\s+" + _FULL_WEEKDAY + r"\s+before\s+last" + _E, _F), _r_weekday_before_last),
    (re.compile(_B + r"(?:at\s+|by\s+|in\s+|towards?\s+)?(?:the\s+)?(?P<part>beginning|start|middle|end)\s+of\s+"
                r"(?P<rel>the|this|last|next|previous)\s+(?P<period>week|month|year)" + _E, _F), _r_part_of_period),
    (re.compile(_B + r"(?:(?P<rel>this\s+past|this\s+coming|last|next|this|coming|past|previous)\s+|"
                r"(?:on|at|for|over|during|around|before|after|since|until|till|by|from|through)\s+(?:the\s+)?)"
                r"(?P<holiday>christmas\s+eve|christmas(?:\s+day)?|new\s+year['\u2019]?s?\s+eve|new\s+year['\u2019]?s?(?:\s+day)?|"
                r"valentine['\u2019]?s?(?:\s+day)?|easter(?:\s+sunday)?|mother['\u2019]?s\s+day|father['\u2019]?s\s+day|"
                r"memorial\s+day|independence\s+day|fourth\s+of\s+july|labou?r\s+day|halloween|thanksgiving)"
                + _E, _F), _r_holiday),
    (re.compile(_B + _REL + r"\s+(?P<period>week|weekend|month|year)" + _E, _F),
     _r_relative_period),
    (re.compile(_B + r"(?:(?:over|on|during|at)\s+)?the\s+weekend" + _E, _F), _r_the_weekend),
    (re.compile(_B + r"(?P<which>earlier|later)\s+this\s+(?P<period>week|month|year)" + _E, _F),
     _r_earlier_later),
    (re.compile(_B + _REL + r"\s+" + _ANY_WEEKDAY + _PART_OF_DAY + _E, _F), _r_relative_weekday),
    (re.compile(_B + r"(?:on\s+)?" + _FULL_WEEKDAY + _PART_OF_DAY + r"(?!s)" + _E, _F),
     _r_plain_weekday),
    (re.compile(_B + _QTY + r"\s+" + _UNIT + r"\s+(?:ago|back)" + _E, _F), _r_ago),
    (re.compile(_B + r"within\s+(?:the\s+next\s+)?" + _QTY + r"\s+" + _UNIT + _E, _F), _r_within),
    (re.compile(_B + r"in\s+" + _QTY + r"\s+" + _UNIT + _E, _F), _r_in_future),
    (re.compile(_B + _QTY + r"\s+" + _UNIT + r"\s+from\s+now" + _E, _F), _r_in_future),
    (re.compile(_B + r"(?:" + _QTY + r"\s+" + _UNIT + r"\s+from\s+(?P<base>today|tonight|tomorrow|yesterday|"
                + r"(?:(?P<brel>this\s+past|this\s+coming|last|next|this|coming|past|previous)\s+)?" + _FULL_WEEKDAY + r")|(?:the\s+)?(?P<base2>" + _FULL_WEEKDAY.replace("?P<wd>", "?P<wd2>") + r")\s+after\s+next)"
                + _E, _F), _r_from_day),
    (re.compile(_B + r"(?:the\s+|these\s+)(?:past|last)\s+(?:" + _QTY + r"\s+)?" + _UNIT + _E, _F),
     _r_rolling_past),
    (re.compile(_B + _REL + r"\s+" + _SEASON + _E, _F), _r_relative_season),
    # not a capitalised season opening a name ("the Spring Fling Market", "the Winter Olympics")
    (re.compile(_B + r"(?:in|during|over|through|for)\s+(?:the\s+)?(?!(?-i:(?:Spring|Summer|Fall|Autumn|Winter)\s+[A-Z]))"
                + _SEASON + r"(?!\s+(?:of\s+)?(?:19|20)\d\d)" + _E, _F), _r_plain_season),
    (re.compile(_B + r"(?:the\s+)?" + _SEASON + r"\s+(?:of\s+)?" + _YEAR + _E, _F),
     _r_season_of_year),
    # Explicit dates: "May 7, 2023", "May 7th", "7 May 2023", "the 7th of May".
    (re.compile(_B + _MONTH + r"\s+" + _DAY + r"(?:\s*,?\s*" + _YEAR + r")?" + _E, _F),
     _r_full_date),
    (re.compile(_B + r"(?:the\s+)?" + _DAY + r"\s+(?:of\s+)?" + _MONTH + r"(?:\s*,?\s*" + _YEAR
                + r")?" + _E, _F), _r_full_date),
    (re.compile(_B + _MONTH + r"\s*,?\s+(?:of\s+)?" + _YEAR + _E, _F), _r_month_year),
    (re.compile(_B + _REL + r"\s+" + _PART + _MONTH_FULL + _E, _F), _r_relative_month_name),
    # (not a month a day or a year follows: "since February 14", "from January 2022" are the dates above,
    # which the longer "since February" took, the day or the year lost)
    (re.compile(_B + _PREP + _PART + _MONTH_FULL + r"(?!\s*,?\s*(?:[0-3]?\d(?:st|nd|rd|th)?|(?:19|20)\d\d)(?!\w))" + _E, _F),
     _r_month_name),
    (re.compile(_B + _PART_REQUIRED + _MONTH_FULL + _E, _F), _r_month_name),
    (re.compile(_B + _PREP + _PART + _YEAR + _E, _F), _r_year),
    (re.compile(_B + _PART_REQUIRED + _YEAR + _E, _F), _r_year),
    (re.compile(_B + _PART + r"(?:the\s+)?year\s+" + _YEAR + _E, _F), _r_year),
    (re.compile(_B + r"(?P<y>(?:19|20)\d\d)[-/](?P<m>[01]?\d)[-/](?P<d>[0-3]?\d)" + _E), _r_iso),
    (re.compile(_B + r"(?P<m>0?[1-9]|1[0-2])/(?P<d>[0-3]?\d)/(?P<y>(?:19|20)\d\d)" + _E), _r_iso),
    # day first where the first number can be no month ("14/3/2023"), and with dots ("14.03.2024", as dates.py reads them)
    (re.compile(_B + r"(?P<d>1[3-9]|2\d|3[01])/(?P<m>0?[1-9]|1[0-2])/(?P<y>(?:19|20)\d\d)" + _E), _r_iso),
    # (not a version: "version 3.10.2019", "v1.2.2023")
    (re.compile(r"(?<!version\s)(?<!build\s)(?<!release\s)(?<!v)" + _B + r"(?P<d>[0-3]?\d)\.(?P<m>[01]?\d)\."
                r"(?P<y>(?:19|20)\d\d)(?![\w.]\d)" + _E, _F), _r_iso),
    # a day of the month alone, after "on the", and not an ordinal of a noun ("on the 14th floor", "on the 3rd
    # and 4th floors", "on the 2nd, 3rd and 5th floors", "on the 12th in line")
    (re.compile(_B + r"on\s+the\s+(?P<d>[12]?\d|3[01])(?:st|nd|rd|th)(?=\s*(?:[,;:](?!\s*\d)|[.!?)]|$)|\s+(?:i|we|you|he|she|"
                r"they|it|but|so|when|then|was|is|will|i'll|we'll|too)\b)", _F), _r_day_of_month),
)

_STRIP_PREFIX = re.compile(
    r"(?:(?:in|on|during|over|through|for|since|until|till|by|from|of|before|after|around|"
    r"at|within|back\s+in|circa)\s+)", re.IGNORECASE)


_UNIT_WORDS = ("minute", "hour", "day", "week", "fortnight", "month", "year")
_SEASON_WORDS = ("spring", "summer", "fall", "autumn", "winter")
_MONTH_WORDS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
                "november", "december")
_YEAR_DIGITS = ("19", "20")
_NEEDS: tuple[tuple[str, ...], ...] = (
    ("yesterday",), ("tomorrow",), ("yesterday", "today", "tonight", "tomorrow"), ("morning", "afternoon", "evening"),
    ("night",), ("other",), ("before",), ("before",), ("week", "month", "year"),
    ("christmas", "new", "valentine", "easter", "mother", "father", "memorial", "independence", "fourth", "labo",
     "halloween", "thanksgiving"),
    ("week", "month", "year"), ("weekend",), ("earlier", "later"), ("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"), ("ago", "back"), ("within",),
    _UNIT_WORDS, ("now",), ("from", "after"), ("past", "last"), _SEASON_WORDS, _SEASON_WORDS, _SEASON_WORDS,
    *[tuple(m[:3] for m in _MONTH_WORDS)] * 3, *[_MONTH_WORDS] * 3, _YEAR_DIGITS, _YEAR_DIGITS, ("year",),
    _YEAR_DIGITS, _YEAR_DIGITS, ("/",), (".",), ("on",),
)
"""Per rule of :data:`_RULES`, words one of which every match of the rule contains (lower-cased): a
text holding none of them is not scanned with the rule. Each is a literal part of the rule that
every match must pass through ("ago" or "back" of "two weeks ago"; "jan".."dec" of any month), so
skipping is exact, and a 3,000-character assistant essay is scanned by the few rules whose words
it has instead of all of them."""
assert len(_NEEDS) == len(_RULES)

# The characters that IGNORECASE matching takes for an ASCII letter while ``str.lower`` keeps them
# apart ("ı" and "ſ" for "i" and "s") or makes two characters of ("İ" for "i"): a text holding one
# is scanned with every rule.
_FOLDS_APART = ("\u0131", "\u017f", "\u0130")


def _rules_for(text: str) -> list[int]:
    """The rules that may match ``text`` (see :data:`_NEEDS`)."""
    if any(c in text for c in _FOLDS_APART):
        return list(range(len(_RULES)))
    lowered = text.lower()
    return [index for index, words in enumerate(_NEEDS) if any(word in lowered for word in words)]


@lru_cache(maxsize=2048)
def _scan(text: str) -> tuple[tuple[int, int, int, re.Match[str]], ...]:
    """All non-overlapping rule matches, longest first at each position.

    Only the rules whose words the text holds run (:data:`_NEEDS`; LongMemEval dev12's
    5,837 turns: 2.2 s instead of 6.1 s). Cached (the last 2,048 texts, a conversation's
    worth): an ingest scans each turn twice (the language analysis marks the spans, then
    the event split resolves them)."""
    return _matches(text, _rules_for(text)) if text else ()


def _matches(text: str, rules: Iterable[int]) -> tuple[tuple[int, int, int, re.Match[str]], ...]:
    """:func:`_scan` with the rules numbered ``rules``."""
    found: list[tuple[int, int, int, re.Match[str]]] = []
    for index in rules:
        for m in _RULES[index][0].finditer(text):
            found.append((m.start(), m.end(), index, m))
    if not found:
        return ()
    chosen: list[tuple[int, int, int, re.Match[str]]] = []
    taken = bytearray(len(text))  # characters inside a chosen match (a check per match, not per pair)
    for start, end, index, m in sorted(found, key=lambda f: (-(f[1] - f[0]), f[0], f[2])):
        if any(taken[start:end]):
            continue
        taken[start:end] = b"\x01" * (end - start)
        chosen.append((start, end, index, m))
    chosen.sort(key=lambda f: f[0])
    return tuple(chosen)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop a leading preposition ("in", "on", ...) from a matched span."""
    if text[start].isdigit():
        return start, end
    prefix = _STRIP_PREFIX.match(text, start, end)
    if prefix and prefix.end() < end:
        start = prefix.end()
    return start, end


def _span(text: str, start: int, end: int, rule_index: int) -> tuple[int, int]:
    if _RULES[rule_index][1] in (_r_in_future, _r_within):
        return start, end
    return _trim(text, start, end)


def find_time_spans(text: str, *, holidays: bool = True) -> list[tuple[int, int]]:
    """Character spans of the time expressions in ``text``, without resolving them.

    The spans are those :func:`find_time_expressions` would return (leading prepositions such
    as "in" or "on" are not part of a span).

    Args:
        text: any text.
        holidays: include holidays ("on Christmas Eve"); the language analysis leaves them out,
            since a holiday is also a named event the memory links turns by.

    Returns:
        ``(char_start, char_end)`` pairs in text order.
    """
    return [_span(text, start, end, index) for start, end, index, _m in _scan(text)
            if holidays or _RULES[index][1] is not _r_holiday]


def find_time_expressions(text: str, anchor: datetime | date) -> list[TimeRef]:
    """Find the time expressions in ``text`` and resolve them against ``anchor``.

    Args:
        text: the text (a chat turn, a sentence, a query).
        anchor: when the text was said; relative expressions are resolved against its date.

    Returns:
        One :class:`TimeRef` per expression, in text order, non-overlapping.

    Example:
        >>> refs = find_time_expressions("I ran a charity race last Saturday.", date(2023, 5, 8))
        >>> refs[0].expression, refs[0].start
        ('last Saturday', datetime.date(2023, 5, 6))
    """
    if isinstance(anchor, datetime):
        ctx = _Context(anchor.date(), anchor, text)
    else:
        ctx = _Context(anchor, None, text)
    refs: list[TimeRef] = []
    for start, end, index, m in _scan(text):
        try:
            span = _RULES[index][1](m, ctx)
        except (ValueError, OverflowError, KeyError) as exc:  # impossible dates, odd numbers
            logger.debug("could not resolve %r: %s", m.group(0), exc)
            continue
        if span is None:
            continue
        char_start, char_end = _span(text, start, end, index)
        refs.append(TimeRef(text[char_start:char_end], span[0], span[1], char_start, char_end))
    return refs


# --------------------------------------------------------------------------- session dates

_LOCOMO_DT = re.compile(
    r"^\s*(?P<h>\d{1,2})(?::(?P<mi>\d{2}))?\s*(?P<ampm>[ap])\.?\s*m\.?\s*(?:on\s+)?"
    r"(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mon>[A-Za-z]+)\.?,?\s*(?P<y>\d{4})\s*$",
    re.IGNORECASE,
)
_SLASH_DT = re.compile(
    r"^\s*(?P<y>\d{4})[/-](?P<m>\d{1,2})[/-](?P<d>\d{1,2})\s*(?:\([A-Za-z]{2,4}\))?\s*"
    r"(?:(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?)?\s*$"
)
_HAS_YEAR = re.compile(r"(?<!\d)(?:1[89]|2\d)\d\d(?!\d)")


def parse_session_datetime(text: str) -> datetime | None:
    """Parse a session timestamp as written by common conversation datasets.

    Understood forms: LoCoMo's ``"1:56 pm on 8 May, 2023"``, LongMemEval's
    ``"2023/05/20 (Sat) 02:21"``, ISO 8601 (``"2023-05-08T13:56:00"``, with or without a
    zone), and other unambiguous English dates with a four-digit year ("May 8, 2023 1:56 PM").

    Args:
        text: the timestamp text.

    Returns:
        The datetime (naive unless the text names a zone), or None when the text is not a
        recognisable timestamp.
    """
    if not text or not text.strip():
        return None
    m = _LOCOMO_DT.match(text)
    if m:
        month = _MONTHS.get(m.group("mon").lower())
        hour = int(m.group("h")) % 12 + (12 if m.group("ampm").lower() == "p" else 0)
        if month is not None:
            try:
                return datetime(int(m.group("y")), month, int(m.group("d")), hour,
                                int(m.group("mi") or 0))
            except ValueError:
                return None
    m = _SLASH_DT.match(text)
    if m:
        try:
            return datetime(int(m.group("y")), int(m.group("m")), int(m.group("d")),
                            int(m.group("h") or 0), int(m.group("mi") or 0), int(m.group("s") or 0))
        except ValueError:
            return None
    stripped = text.strip()
    try:
        return datetime.fromisoformat(stripped)
    except ValueError:
        pass
    if not _HAS_YEAR.search(stripped):
        return None
    from dateutil import parser as date_parser  # lazy: only for unusual formats

    try:
        return date_parser.parse(stripped, default=datetime(2000, 1, 1))
    except (ValueError, OverflowError) as exc:
        logger.debug("not a timestamp %r: %s", text, exc)
        return None


# A span of time: a quantity of a time unit ("4 years", "five hours", "a couple of weeks", "two-month"),
# or a start it has lasted since ("since 2016", "since I was 17", "since childhood"). Found from the
# unit backwards in the lower-cased text: one scan for the whole pattern at every position took 2 s
# per 100k turns, this about 0.3 s.
_DURATION_UNIT = re.compile(r"(?:second|minute|min|hour|hr|day|night|week|month|year|yr|decade)s?\b")
_DURATION_QUANTITY = re.compile(
    r"(?:^|[^\w.])(?:\d+(?:\.\d+)?|a\s+couple(?:\s+of)?|couple\s+of|a\s+few|few|several|many|"
    + _NUMBER_WORD + r")[\s-]+(?:(?:more|whole|full|long|straight|solid)\s+)?$")
_DURATION_SINCE = re.compile(
    r"\bsince\s+(?:(?:19|20)\d\d|(?:i|we|he|she|they)\s+(?:was|were)\b|childhood|high\s+school|college)")


def states_duration(text: str) -> bool:
    """Whether ``text`` states a span of time ("for 4 years", "it took five hours", "since 2016"):
    what a question asking "how long" is answered with."""
    low = text.lower()
    for unit in _DURATION_UNIT.finditer(low):
        start = unit.start()
        if start == 0 or not (low[start - 1].isspace() or low[start - 1] == "-"):  # "today" is no "day"
            continue
        before = low[max(0, start - 40):start]
        if start > 40:  # a word cut at the window's start is not a whole quantity
            before = "x" + before
        if _DURATION_QUANTITY.search(before):
            return True
    return "since" in low and _DURATION_SINCE.search(low) is not None


_DIGIT = re.compile(r"\d")

# An age, the span of a life: "75 years old", "a 5-year-old", "turned 32", "aged 40", and a copula with
# a number of years where nothing countable follows it ("my grandma is 75 and", "I'm 43.").
_AGE = re.compile(
    r"\b\d{1,3}[\s-]+(?:years?|yrs?)[\s-]+old\b|\b(?:turn(?:s|ed|ing)?|aged)\s+\d{1,3}\b(?![:.,]\d)|"
    r"\b(?:i'?m|i\s+am|is|are|was|were)\s+(?:now\s+|just\s+|already\s+|almost\s+|nearly\s+|about\s+|only\s+)?"
    r"(?:1\d|[2-9]\d|10\d)(?=\s*(?:$|[,;!?)]|\.(?!\d)|and\b|now\b|this\b|when\b|years?\b))",
    re.IGNORECASE)


def states_age(text: str) -> bool:
    """Whether ``text`` states someone's age ("my grandma is 75", "I just turned 32", "a 5-year-old"):
    what a question asking "how old" or "what age" is answered with."""
    return _DIGIT.search(text) is not None and _AGE.search(text) is not None  # most texts have no digit


# How often: "every week", "each Sunday", "three times a week", "once a month", "weekly", "on weekends".
_FREQUENCY = re.compile(
    r"\b(?:every|each)\s+(?:other\s+|single\s+|(?:\d+|two|three|four|five|six|few|couple\s+of)\s+)?"
    r"(?:days?|nights?|mornings?|evenings?|afternoons?|weeks?|weekends?|months?|years?|summer|winter|spring|fall|autumn|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|time)\b|"
    r"\b(?:once|twice|thrice|\w+\s+times)\s+(?:a|an|per|each|every)\s+(?:day|night|week|weekend|month|year)\b|"
    r"\b(?:daily|weekly|biweekly|monthly|yearly|annually|nightly|fortnightly)\b|"
    r"\bon\s+(?:mondays|tuesdays|wednesdays|thursdays|fridays|saturdays|sundays|weekends)\b",
    re.IGNORECASE)


def states_frequency(text: str) -> bool:
    """Whether ``text`` states how often something happens ("three times a week", "every Sunday",
    "weekly"): what a question asking "how often" is answered with."""
    return _FREQUENCY.search(text) is not None
