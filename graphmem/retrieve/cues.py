"""Query cues read without any model: names, explicit dates, temporal and aggregation cues.

:class:`QueryFeatures` extracts, from the query text alone:

* **names**: known names (speakers, entity names and aliases) mentioned in the query, and
  other capitalised words that look like names (candidate entities);
* **time**: calendar constraints, used to prefer memories from matching dates
  (:class:`TimeCue`): month names, years and day numbers next to a month, and the query's
  other time expressions ("last Saturday", "two weeks ago", "last summer") resolved to days
  by the extractor's own resolver (:func:`graphmem.extract.temporal.find_time_expressions`)
  against the time the query is asked (``Memory.search(as_of=...)``, default now), or
  against the one full date the query states;
* **temporal**: whether the query asks about time ("when", "how long", "what year", "ago",
  "before", "after", "since", "first", "last"...);
* **asks_time**: whether the answer is a time ("When did ...", "what year/month/day/date",
  "which year", "how long ago", "how many days ago", "since when");
* **aggregation**: whether the answer likely gathers several memories ("all", "how many",
  "what kinds/types/sorts of", "both", "each", "every", "ever", "times", a plural noun
  after what/which, the present perfect with a named subject ("where has Melanie
  camped", "which countries has Maria been to"), two names joined by "and"). Not cues,
  since each asks for one fact: the singular "what kind/type of" and "how often" (one
  characterisation, stated once: "What kind of pot did they make?", "How often does John
  go to the park?"), a duration ("How long has Caroline had ...": when it began) and the
  present perfect progressive ("What has John been blogging about?": one ongoing activity).
  On LoCoMo dev the cue fired on 53 single-answer questions (temporal, single-hop,
  adversarial) and 50 of 74 multi-hop ones with these; without them, on 15 and 49;
* **asks_assistant**: the query asks what the assistant itself said before ("you mentioned",
  "you recommended", "our previous conversation"), so the answer is in an
  assistant's turn, not in what the user told it.
* **answer_labels**: the entity labels the answer likely has: places (``GPE``, ``LOC``,
  ``FAC``) for "Where ..." and "which cities / countries / states / places ...", titles
  (``WORK_OF_ART``) for "what books / movies / songs ...", and, not entity labels,
  ``DURATION`` for "how long ..." (not "how long ago", which asks for a time), ``AGE`` for
  "how old / what age ..." and ``FREQUENCY`` for "how often ...". Auto raises the turns whose
  events name such an entity, or whose text states a span of time ("for 4 years", "five
  hours", "since 2016"), an age ("my grandma is 75", "I just turned 32") or a frequency
  ("three times a week", "every Sunday"; ``RetrievalConfig.answer_type_weight``).

An aggregation question that names exactly one speaker of the memory ("What activities does
Melanie partake in?") also lifts that speaker's turns (``RetrievalConfig.named_speaker_weight``).

It sits below :mod:`graphmem.retrieve.types` (the query context carries the features) and
imports nothing of its siblings; it reads dates with :mod:`graphmem.extract.temporal`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import regex

from graphmem.extract.temporal import find_time_expressions

__all__ = ["QueryFeatures", "TimeCue", "parse_time_cue", "query_dates", "query_time_spans"]

_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)
_MONTH_ABBR = {m[:3]: i + 1 for i, m in enumerate(_MONTHS)}
_MONTH_ABBR["sept"] = 9
# "May" is also a modal verb: count it as a month only next to a day number or a year, or
# after "in"/"of"/"during"/"since"/"early"/"mid"/"late".
_MONTH_RE = re.compile(
    r"\b(" + "|".join(_MONTHS) + r"|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?\b",
    re.IGNORECASE,
)
_YEAR_RE = re.compile(r"\b(19\d\d|20\d\d)\b")
# a day of the week is a time, not a name ("What did I tell you on Sunday?" seeded activation from "Sunday")
_WEEKDAY_RE = re.compile(r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?", re.IGNORECASE)
_DAY_BEFORE_RE = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?$", re.IGNORECASE)
_DAY_AFTER_RE = re.compile(r"^\s+(\d{1,2})(?:st|nd|rd|th)?\b", re.IGNORECASE)
# "May" right after one of these is the month ("in May", "last May"), not the verb
_MAY_CONTEXT_RE = re.compile(r"\b(in|of|during|since|early|mid|late|until|by|last|this|next|past|coming)\s+$", re.IGNORECASE)

_TEMPORAL_RE = re.compile(
    r"\b(when|what\s+(?:year|month|day|date|time)|which\s+(?:year|month|day)|how\s+long|"
    r"ago|before|after|since|until|first|last|recently|lately|latest|earliest|date|"
    r"yesterday|today|tomorrow|weekend|week|month|year)\b",
    re.IGNORECASE,
)
# The question's answer is a time: "when" opening a question (or followed by an auxiliary),
# "what/which year|month|day|date|time", "how long ago" and its counted form "how many days
# (weeks, months, years) ago", "since when".
_ASKS_TIME_RE = re.compile(
    r"(?:^\W*when\b|\bwhen\s+(?:did|does|do|is|was|were|will|would|has|have|had|are|can|could)\b|"
    r"\b(?:what|which)\s+(?:year|month|day|date|time)\b|\bhow\s+long\s+ago\b|"
    r"\bhow\s+many\s+(?:days|weeks|months|years)\s+ago\b|\bsince\s+when\b)",
    re.IGNORECASE,
)
_AGGREGATION_RE = re.compile(
    r"\b(all|how\s+many|what\s+(?:kinds|types|sorts)\s+of|both|each|every|"
    r"ever|times|list|various|several|some\s+of)\b",
    re.IGNORECASE,
)
# what/which + plural noun ("What books has ...", "Which places ..."), excluding verbs.
_PLURAL_WH_RE = re.compile(r"\b(?:what|which)\s+([a-z]+[^s\W]s|[a-z]+ies)\b", re.IGNORECASE)
# Present perfect with a named subject ("Where has Melanie camped?") asks over the whole history.
_PERFECT_RE = re.compile(r"\b(?:has|have)\s+[A-Z][a-z]+(?:\s+and\s+[A-Z][a-z]+)?\s+(?:ever\s+)?(?!been\s+[a-z]+ing\b)[a-z]+")
# "How long has Melanie ...": a duration, one fact (when it began), not a gathering.
_DURATION_RE = re.compile(r"\bhow\s+long\b(?!\s+ago)", re.IGNORECASE)
_NOT_PLURAL = frozenset({"does", "was", "is", "has", "kinds", "types", "sorts", "plans"})
# Capitalised words of any alphabet, accents and combining marks in them ("Zoë", "Kraków", "Дмитрий")
_CAPITALISED_RE = regex.compile(r"\b\p{Lu}[\p{L}\p{M}'\-]+(?:\s+\p{Lu}[\p{L}\p{M}'\-]+)*")
_WH_WORDS = frozenset({
    "what", "when", "where", "who", "whom", "whose", "which", "why", "how", "did", "does", "do",
    "is", "are", "was", "were", "has", "have", "had", "would", "could", "should", "can", "will",
    "i", "in", "on", "at", "the", "a", "an", "and", "or", "of", "for",
})


@dataclass(frozen=True)
class TimeCue:
    """A calendar constraint found in a query.

    Attributes:
        months: month numbers mentioned (1-12).
        years: years mentioned.
        days: day-of-month numbers written next to a month.
        spans: the query's time expressions that name no month and no year ("last
            Saturday", "two weeks ago", "last summer", "on Valentine's Day") resolved to days
            (``(first, last)``, inclusive, days since 1970-01-01) against the time the query
            is asked, or against the one full date the query states ("last weekend before
            April 10, 2023").
        dates: the days the query names with their month ("on May 3, 2023", "3 June",
            "2023-05-03"), each as a span of one day (``(first, last)``, days since
            1970-01-01), or as one span from the first to the last when named as a range
            ("between May 3 and May 20"); a day written without its year is resolved against
            the time the query is asked, and left out when that is not known.
    """

    months: tuple[int, ...] = ()
    years: tuple[int, ...] = ()
    days: tuple[int, ...] = ()
    spans: tuple[tuple[int, int], ...] = ()
    dates: tuple[tuple[int, int], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.months or self.years or self.spans)

    def describe(self) -> str:
        """The constraint in words, for explanations."""
        parts = []
        if self.months:
            parts.append(f"months {list(self.months)}")
        if self.years:
            parts.append(f"years {list(self.years)}")
        if self.dates:
            parts.append("on " + ", ".join(self.describe_dates()))
        if self.spans:
            parts.append("days " + ", ".join(self.describe_spans()))
        return ", ".join(parts)

    def describe_spans(self) -> list[str]:
        """Each resolved span as ``YYYY-MM-DD`` or ``YYYY-MM-DD..YYYY-MM-DD``."""
        return [_span_text(a, b) for a, b in self.spans]

    def describe_dates(self) -> list[str]:
        """The days named (:attr:`dates`) as ``YYYY-MM-DD`` or ``YYYY-MM-DD..YYYY-MM-DD``."""
        return [_span_text(a, b) for a, b in self.dates]


_EPOCH_DAY = date(1970, 1, 1)
# a query longer than this is read for its words, not its dates (the resolver is linear, but a
# 1 MB query of dates would still cost seconds)
_MAX_CUE_TEXT = 10_000


def _day_text(day: int) -> str:
    return (_EPOCH_DAY + timedelta(days=day)).isoformat()


def _span_text(first: int, last: int) -> str:
    return _day_text(first) if first == last else f"{_day_text(first)}..{_day_text(last)}"


# two days named as the ends of a range ("between May 3 and May 20", "from May 3 to May 20", "May 3-20")
_RANGE_RE = re.compile(r"\bbetween\b|\bfrom\b.+\b(?:to|until|till|through)\b|(?<![\d-])\d{1,2}\s*[-\u2013]\s*\d{1,2}(?![\d-])",
                       re.IGNORECASE)


def query_dates(text: str, as_of: date | None) -> tuple[tuple[int, int], ...]:
    """The days a query names with their month, each a span of one day, or one span from the
    first to the last when the query names them as a range ("between May 3 and May 20")
    (:attr:`TimeCue.dates`; empty when it names none).

    A day written with its year ("May 3, 2023", "2023-05-03") is that day whenever the query
    is asked; one without ("on March 10") is resolved against the one full date the query
    states ("between May 3 and May 20, 2023"), else against ``as_of``, and left out when
    neither is known.

    >>> query_dates("What did I do on May 3, 2023?", None)  # 2023-05-03
    ((19480, 19480),)
    """
    if not text or len(text) > _MAX_CUE_TEXT:
        return ()
    full = {r.start for r in find_time_expressions(text, _EPOCH_DAY) if r.is_day and _YEAR_RE.search(r.expression)}
    anchor = next(iter(full)) if len(full) == 1 else as_of
    named = sorted({(r.start - _EPOCH_DAY).days for r in find_time_expressions(text, anchor or _EPOCH_DAY)
                    if r.is_day and r.start == r.end
                    and (_YEAR_RE.search(r.expression) or (anchor is not None and _MONTH_RE.search(r.expression)))})
    if len(named) > 1 and _RANGE_RE.search(text):
        return ((named[0], named[-1]),)
    return tuple((day, day) for day in named)


def query_time_spans(text: str, as_of: date | None) -> tuple[tuple[int, int], ...]:
    """The time expressions of a query that name no month and no year, resolved to day
    ranges (see :attr:`TimeCue.spans`; a month or year written out is matched by month, as
    :attr:`TimeCue.months` and :attr:`TimeCue.years`).

    A query that states exactly one full date (day, month and year) resolves its relative
    expressions against that date ("last weekend before April 10, 2023"); otherwise against
    ``as_of``, the time it is asked (``None``: relative expressions are left out). An
    expression written right before another ("on the Wednesday two months ago") is read
    through the later one, which says which Wednesday.

    >>> query_time_spans("What did I do last Saturday?", date(2023, 5, 30))  # 2023-05-27
    ((19504, 19504),)
    """
    if not text or len(text) > _MAX_CUE_TEXT:
        return ()
    full = {(r.start, r.end) for r in find_time_expressions(text, _EPOCH_DAY) if r.is_day and _YEAR_RE.search(r.expression)}
    anchor = next(iter(full))[0] if len(full) == 1 else as_of
    if anchor is None:
        return ()
    refs = find_time_expressions(text, anchor)
    kept = [r for r, after in zip(refs, refs[1:] + [None])
            if (after is None or text[r.char_end:after.char_start].strip())
            and not (_MONTH_RE.search(r.expression) or _YEAR_RE.search(r.expression))]
    spans: list[tuple[int, int]] = []
    for r in kept:
        span = ((r.start - _EPOCH_DAY).days, (r.end - _EPOCH_DAY).days)
        if span not in spans:
            spans.append(span)
    return tuple(spans)


_NEAR = 40


def parse_time_cue(text: str, as_of: date | None = None) -> TimeCue:
    """Find months, years and day numbers written in ``text``, and its time expressions
    resolved to days (:func:`query_time_spans`).

    Args:
        text: the query.
        as_of: the date the query is asked, for relative expressions ("last Saturday");
            ``None`` leaves them out.

    Returns:
        A :class:`TimeCue` (falsy when nothing was found).

    Example:
        >>> parse_time_cue("What did Maria do on May 3, 2023?")
        TimeCue(months=(5,), years=(2023,), days=(3,), spans=(), dates=((19480, 19480),))
    """
    months: list[int] = []
    days: list[int] = []
    for m in _MONTH_RE.finditer(text):
        word = m.group(1).lower()
        number = _MONTH_ABBR.get(word[:3]) if word not in _MONTH_ABBR else _MONTH_ABBR[word]
        if number is None:
            continue
        # what a day number, a year or "in"/"of" next to it can take: a few characters each side
        # (whole prefixes made a text of many month names quadratic)
        before, after = text[max(0, m.start() - _NEAR): m.start()], text[m.end(): m.end() + _NEAR]
        day_before, day_after = _DAY_BEFORE_RE.search(before), _DAY_AFTER_RE.match(after)
        if word == "may" and m.group(1) != "May":
            continue  # the modal verb, lower case
        if word == "may" and not (day_before or day_after or _YEAR_RE.match(after.strip()[:4])
                                  or _MAY_CONTEXT_RE.search(before)):
            continue
        if number not in months:
            months.append(number)
        for d in (day_before, day_after):
            if d and 1 <= int(d.group(1)) <= 31 and int(d.group(1)) not in days:
                days.append(int(d.group(1)))
    years = []
    for y in _YEAR_RE.findall(text):
        if int(y) not in years:
            years.append(int(y))
    dates = query_dates(text, as_of)
    for day in (d for span in dates for d in span):  # a date written in digits names its month too ("2023-05-03")
        month = (_EPOCH_DAY + timedelta(days=day)).month
        if month not in months:
            months.append(month)
    return TimeCue(tuple(months), tuple(years), tuple(days), query_time_spans(text, as_of), dates)


_ASKS_ASSISTANT_RE = re.compile(
    r"\byou(?:'ve|\u2019ve)?\s+(?:\w+\s+)?(?:mentioned|said|told|recommended|suggested|gave|provided|referred|listed|explained|"
    r"described|shared|wrote|proposed|advised|named|showed|answered)\b"
    r"|\bour\s+(?:previous|last|earlier|past)\s+(?:conversation|chat|discussion|talk|exchange)\b",
    re.IGNORECASE)


# The answer is a place: "where" opening a question (or followed by an auxiliary), or
# "what/which [adjective] city/country/state/place/area/town/location(s)".
_ASKS_PLACE_RE = re.compile(
    r"(?:^\W*where\b|\bwhere\s+(?:did|does|do|is|was|were|will|would|has|have|had|are|can|could)\b|"
    r"\b(?:what|which)\s+(?:[a-z]+\s+)?(?:city|cities|country|countries|states?|places?|areas?|towns?|"
    r"locations?|regions?|parts\s+of)\b)",
    re.IGNORECASE)
# The answer is a title: "what/which [adjective] book/movie/song/...(s)".
_ASKS_WORK_RE = re.compile(
    r"\b(?:what|which)\s+(?:[a-z]+\s+)?(?:books?|novels?|movies?|films?|songs?|albums?|shows?|series|poems?|"
    r"podcasts?|plays?|musicals?)\b",
    re.IGNORECASE)
# The answer is a span of time: "how long" (not "how long ago", which asks for a time).
_ASKS_DURATION_RE = re.compile(r"\bhow\s+long\b(?!\s+ago\b)", re.IGNORECASE)
# The answer is a frequency: "how often", "how many times a week".
_ASKS_FREQUENCY_RE = re.compile(r"\bhow\s+often\b|\bhow\s+many\s+times\s+(?:a|an|per|each|every)\b", re.IGNORECASE)
# The answer is an age: "how old", "what age", "the (average) age of".
_ASKS_AGE_RE = re.compile(r"\bhow\s+old\b|\bwhat\s+age\b|\bages?\s+(?:of|is|was|are|were)\b", re.IGNORECASE)
# The answer is a pastime: "what/which [adjective] activities/hobbies/sports", "what does Melanie do
# for fun / to relax / to destress / in her free time".
_ASKS_ACTIVITY_RE = re.compile(
    r"\b(?:what|which)\s+(?:[a-z]+\s+)?(?:activities|activity|hobbies|hobby|sports|sport|pastimes?)\b|"
    r"\bwhat\s+(?:does|do|did)\s+\w+(?:'s)?\s+(?:\w+\s+)?do\s+(?:for\s+fun|to\s+(?:relax|destress|de-stress|unwind)|"
    r"in\s+(?:his|her|their|my|your)\s+(?:free|spare)\s+time)\b",
    re.IGNORECASE)
PLACE_LABELS = ("FAC", "GPE", "LOC")
"""Entity labels of places (countries, cities, regions, landmarks)."""
WORK_LABELS = ("WORK_OF_ART",)
"""Entity labels of titles (books, films, songs)."""
DURATION_LABELS = ("DURATION",)
"""Not an entity label: turns whose text states a span of time ("for 4 years", "five hours")."""
AGE_LABELS = ("AGE",)
"""Not an entity label: turns whose text states someone's age ("my grandma is 75", "turned 32")."""
FREQUENCY_LABELS = ("FREQUENCY",)
"""Not an entity label: turns whose text states how often ("three times a week", "every Sunday")."""
ACTIVITY_LABELS = ("ACTIVITY",)
"""Not an entity label: turns whose text names a pastime ("we went camping", "my pottery class")."""
ANSWER_KINDS = {"a place": PLACE_LABELS, "a title": WORK_LABELS, "a span of time": DURATION_LABELS, "an age": AGE_LABELS,
                "a frequency": FREQUENCY_LABELS, "an activity": ACTIVITY_LABELS}
"""What each kind of answer ``QueryFeatures.answer_labels`` can ask for is called, in explanations."""
# which question pattern asks for which answer labels, in the order answer_labels lists them
_ANSWER_CUES = ((_ASKS_PLACE_RE, PLACE_LABELS), (_ASKS_WORK_RE, WORK_LABELS), (_ASKS_DURATION_RE, DURATION_LABELS),
                (_ASKS_AGE_RE, AGE_LABELS), (_ASKS_FREQUENCY_RE, FREQUENCY_LABELS), (_ASKS_ACTIVITY_RE, ACTIVITY_LABELS))


@dataclass(frozen=True)
class QueryFeatures:
    """Cues read from a query (see the module docstring).

    Build with :meth:`from_query`.

    Attributes:
        text: the query.
        names: known names found in the query, in the spelling of ``known_names``.
        candidate_names: other capitalised, non-initial words that look like names.
        time: explicit calendar constraint.
        temporal: the query asks about time.
        asks_time: the answer is a time (see the module docstring).
        aggregation: the answer likely gathers several memories.
        asks_assistant: the query asks what the assistant said (see the module docstring).
        answer_labels: entity labels the answer likely has: :data:`PLACE_LABELS` when the
            query asks for a place ("Where has Melanie camped?", "Which cities has Jon
            visited?"), :data:`WORK_LABELS` when it asks for a title ("What books has Melanie
            read?"), :data:`DURATION_LABELS` when it asks for a span of time ("How long has
            Caroline known her friends?"), :data:`AGE_LABELS` when it asks for an age ("What is
            the average age of me and my parents?"), :data:`FREQUENCY_LABELS` when it asks how
            often ("How often does John work out?"), :data:`ACTIVITY_LABELS` when it asks for
            pastimes ("What activities does Melanie partake in?", "What does Jon do to relax?").
        cues: the matched cue words, for explanations.
    """

    text: str
    names: tuple[str, ...] = ()
    candidate_names: tuple[str, ...] = ()
    time: TimeCue = field(default_factory=TimeCue)
    temporal: bool = False
    asks_time: bool = False
    aggregation: bool = False
    asks_assistant: bool = False
    answer_labels: tuple[str, ...] = ()
    cues: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, text: str, known_names: Iterable[str] = (), as_of: date | None = None) -> QueryFeatures:
        """Extract the features of ``text``.

        Args:
            text: the query.
            known_names: names the memory knows (speakers, entity names, aliases); matched
                case-insensitively as whole words, possessives included ("Caroline's").
            as_of: the date the query is asked; its relative time expressions ("last
                Saturday") resolve against it (``None``: they are left out).

        Returns:
            The features.
        """
        cues: list[str] = []
        lowered = text.lower()
        names: list[str] = []
        for name in sorted(set(known_names), key=lambda n: (-len(n), n)):
            # (the regex module's \w holds combining marks: "कमल" is not found inside "कमला")
            pattern = rf"(?<![\w]){regex.escape(name.lower())}(?![\w])"
            # a shorter name inside a longer one already found ("Jon" in "Jon Smith") is skipped
            if name and regex.search(pattern, lowered) and not any(regex.search(pattern, n.lower()) for n in names):
                names.append(name)
        candidates: list[str] = []
        for m in _CAPITALISED_RE.finditer(text):
            words = m.group(0).split()
            while words and words[0].lower() in _WH_WORDS:
                words.pop(0)  # "What", "When", "In" open the query; they are not names
            if not words or (m.start() == 0 and len(words) == 1 and len(m.group(0).split()) == 1):
                continue  # nothing left, or a lone sentence-initial word
            phrase = re.sub(r"'s$", "", " ".join(words))
            if _MONTH_RE.fullmatch(phrase) or _WEEKDAY_RE.fullmatch(phrase) or phrase in candidates:
                continue
            if any(phrase.lower() == n.lower() for n in names):
                continue
            candidates.append(phrase)
        time = parse_time_cue(text, as_of)
        temporal_hits = [m.group(0).lower() for m in _TEMPORAL_RE.finditer(text)]
        aggregation_hits = [m.group(0).lower() for m in _AGGREGATION_RE.finditer(text)]
        for m in _PLURAL_WH_RE.finditer(text):
            if m.group(1).lower() not in _NOT_PLURAL:
                aggregation_hits.append(m.group(0).lower())
        if not _DURATION_RE.search(text):
            aggregation_hits.extend(m.group(0).lower() for m in _PERFECT_RE.finditer(text))
        if len(names) + len(candidates) >= 2 and re.search(r"\band\b", lowered):
            aggregation_hits.append("and")
        cues.extend(f"temporal:{c}" for c in temporal_hits)
        cues.extend(f"aggregation:{c}" for c in aggregation_hits)
        if time.months or time.years:
            cues.append("time:explicit")
        if time.spans:
            cues.append("time:resolved")
        assistant_hits = [m.group(0).lower() for m in _ASKS_ASSISTANT_RE.finditer(text)]
        cues.extend(f"assistant:{c}" for c in assistant_hits)
        return cls(
            text=text,
            names=tuple(names),
            candidate_names=tuple(candidates),
            time=time,
            temporal=bool(temporal_hits) or bool(time),
            asks_time=bool(_ASKS_TIME_RE.search(text)),
            aggregation=bool(aggregation_hits),
            asks_assistant=bool(assistant_hits),
            answer_labels=tuple(label for asks, labels in _ANSWER_CUES if asks.search(text) for label in labels),
            cues=tuple(cues),
        )
