"""Split a chat turn into event units: self-contained propositions with their mentions and times.

A turn such as "Hey Mel! I went to a pottery class yesterday, and I made a bowl for my
sister. Haha!" holds two facts and some small talk. :func:`split_events` keeps the facts as
:class:`EventUnit` objects and drops the small talk:

1. The turn is cut into sentences (from the language pipeline) and each sentence into
   clauses where it joins independent clauses with ", and", ", but", ", so", " but ", ";" or
   a dash, but only when both sides are long enough to stand alone.
2. Each piece's *content words* are counted: words that are not function words,
   interjections, adverbs, evaluative adjectives or light verbs ("see", "keep", "hope",
   "sounds"), and not a name used to address someone ("Hey Mel!", "Thanks, Caroline").
   Generic nouns ("thing", "time") count half; a time expression ("last year") adds one.
3. Pieces with at least ``min_content_tokens`` content words, one of them a noun, name or
   adjective (not only verbs), are events. Pieces with fewer
   are attached to the neighbouring event (the previous one, or the next one at the start
   of a turn) when they carry anything (a content word or a named mention); pieces that
   carry nothing ("Haha, nice!", "Thanks!", "Wow, that's great!") are dropped. When a turn
   has no long piece, its short pieces are joined and kept as one event only if together
   they are long enough or name something; a turn of pure filler yields no events.

Everything is deterministic: the same text, analysis and anchor give the same units.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from graphmem.extract import lexicon as lx
from graphmem.extract.markup import address_spans, code_spans, inside, table_spans
from graphmem.extract.nlp import Mention, TextAnalysis
from graphmem.extract.temporal import TimeRef, find_time_expressions
from graphmem.scripts import cjk_characters, cjk_words

__all__ = ["EventLimits", "EventUnit", "content_score", "split_events"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventUnit:
    """One self-contained proposition taken from a turn.

    Attributes:
        text: the unit's text (a slice of the turn).
        char_start: offset of the unit in the turn.
        char_end: offset just past the unit in the turn.
        mentions: the mentions inside the unit, with offsets relative to the turn.
        times: the resolved time expressions inside the unit (offsets relative to the turn);
            empty when no anchor was given.
        index: position of the unit among the turn's units (0, 1, ...).
        addressees: ``PERSON`` mentions anywhere in the turn that address someone ("Hey
            Mel!", "Thanks, Caroline"): who the speaker was talking to. They are not in
            ``mentions`` unless they lie inside the unit.
    """

    text: str
    char_start: int
    char_end: int
    mentions: tuple[Mention, ...] = ()
    times: tuple[TimeRef, ...] = ()
    index: int = 0
    addressees: tuple[Mention, ...] = ()


@dataclass(frozen=True)
class EventLimits:
    """How many events a long turn may yield.

    A chat turn of a few sentences yields every proposition it holds. A long answer (an
    assistant's essay, a pasted document) yields only its ``max_events_long_turn`` units that
    say the most: the turn itself is stored whole, embedded (its first 256 tokens) and indexed
    for BM25 (all of it), so the events add the fine-grained sentences, not coverage. On the
    LongMemEval dev haystacks assistant turns average 13 events (3,406 for 258 turns of
    71315a70), which doubled the texts embedded per turn.

    Attributes:
        long_turn_chars: a turn longer than this is long (LoCoMo turns average 120).
        max_events_long_turn: events kept from a long turn. 3, from 6: on the LongMemEval
            dev12 haystacks (``graphmem eval longmemeval``, auto / dense / bm25) ingest went
            from 304 s to 292 s for the 12 questions at 4 and from 359 s at 6 (events of
            71315a70: 2,029 at 6, 1,655 at 4, 1,468 at 3), with every session R_all@3/5/10
            the same (auto 83.3 / 91.7 / 100, dense 100, bm25 83.3 / 83.3 / 91.7) and turn
            NDCG@10 auto 65.9 / 65.8 / 65.1, dense 68.2 / 70.1 / 73.5 (6 / 4 / 3). LoCoMo
            turns are all short: unaffected.
    """

    long_turn_chars: int = 1_000
    max_events_long_turn: int = 3

    def __post_init__(self) -> None:
        if self.long_turn_chars < 1 or self.max_events_long_turn < 1:
            raise ValueError("event limits must be at least 1")

    def max_units(self, text: str) -> int | None:
        """The ``max_units`` for :func:`split_events` on ``text`` (None: no limit)."""
        return self.max_events_long_turn if len(text) > self.long_turn_chars else None


_LIGHT_VERBS = _words("""
be am is are was were been being have has had do does did done go goes going gone went get
gets got gotten getting keep keeps kept see sees saw seen know knows knew think thinks
thought say says said tell told feel feels felt look looks looked sound sounds sounded hope
hoped hopes let lets want wants wanted need needs guess bet mean means meant agree agreed
seem seems seemed make makes made take takes took come comes came glad love loved like
liked hear heard talk talking appreciate appreciated enjoy catch wish
""")
_NON_CONTENT = lx.FUNCTION_WORDS | lx.INTERJECTIONS | lx.ADVERBS | lx.PHRASE_STRIP | _LIGHT_VERBS
_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_CONTRACTION_RE = re.compile(r"(?:['’](?:s|re|ll|ve|m|d|t)|n['’]t)$")
_SUBORDINATE_START = re.compile(
    r"(?:which|who|whom|whose|that|because|when|where|while|if|although|though|as|since|"
    r"unless|until|whereas)\b", re.IGNORECASE)
_CLAUSE_RE = re.compile(r",\s+(?:and|but|so)\s+|;\s*|\s+but\s+|\s+[-–—]+\s+", re.IGNORECASE)
_OPENERS = _words("hey hi hello hiya wow woah whoa oh ooh ah aw aww yeah yep yup haha lol omg")
_GREETINGS = _words("""
hey hi hello thanks thank congrats congratulations wow oh dear bye goodbye yo night morning
cheers sorry well aw aww
""")


def _score(text: str, skip: list[tuple[int, int]], offset: int = 0) -> tuple[float, int]:
    score = 0.0
    solid = 0
    for m in _WORD_RE.finditer(text):
        if skip:
            start = m.start() + offset
            if any(s <= start < e for s, e in skip):
                continue
        points, solid_points = _word_points(m.group(0).lower())
        score += points
        solid += solid_points
    return score, solid


@lru_cache(maxsize=65536)
def _word_points(lowered: str) -> tuple[float, int]:
    """What one lower-cased word adds to :func:`_score`: ``(score, solid)``. Cached: the
    same words come back in every clause weighed (the first LongMemEval dev12 haystack: 96,000
    words scored, 7,700 of them distinct)."""
    word = _CONTRACTION_RE.sub("", lowered)
    if not word or word in _NON_CONTENT:
        return 0.0, 0
    if cjk_characters(word):  # a Chinese or Japanese clause is one "word" here: count the words it says
        said = cjk_words(word)
        return float(said), said
    if word.isdigit() and len(word) < 3:
        return 0.0, 0
    if word in lx.GENERIC_NOUNS:
        return 0.5, 0
    if (word in lx.VERB_FORMS and word not in lx.ADJECTIVES
            and not (lx.verb_base(word) in lx.NOUN_VERBS and not word.endswith(("ed", "ing")))):
        # a verb says something, but not what about
        return 1.0, int(word.endswith("ing") and lx.verb_base(word) in lx.ACTIVITY_VERBS)
    return 1.0, 1


def content_score(text: str) -> float:
    """How much ``text`` says: content words and verbs count 1, generic nouns 0.5.

    Function words, interjections, adverbs, evaluative adjectives and light verbs ("see",
    "keep", "sounds") count nothing. :func:`split_events` compares this score with its
    ``min_content_tokens``.
    """
    return _score(text, [])[0]


def _is_vocative(text: str, mention: Mention) -> bool:
    """A name used to address someone: "Hey Mel!", "Thanks, Caroline.", "..., Jon?"."""
    if mention.label != "PERSON":
        return False
    after = text[mention.char_end:mention.char_end + 2].lstrip()
    if after and after[0] not in ",.!?;:)":
        return False
    before = text[:mention.char_start].rstrip()
    if not before or before[-1] in ",.!?;:(":
        return True
    words = _WORD_RE.findall(before[-30:])
    return bool(words) and (words[-1].lower() in _GREETINGS or words[-1].lower() in lx.INTERJECTIONS)


@dataclass
class _Piece:
    start: int
    end: int
    content: float
    solid: int  # words of full weight (not verbs or generic nouns)
    named: bool  # names a person, place, organisation, ... (not just addressing someone)
    dated: bool = False  # states a time and a content word of its own ("I went to the dentist yesterday")


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (text[start].isspace() or text[start] in ",;-–—"):
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _strip_opening(text: str, start: int, end: int, vocatives: list[tuple[int, int]]) -> tuple[int, int]:
    """Drop a leading "Hey Maria," / "Wow!" / "Yeah," from a unit."""
    position = start
    while position < end:
        while position < end and (text[position].isspace() or text[position] in ",.!?;:-–—"):
            position += 1
        vocative = next((e for s, e in vocatives if s == position), None)
        if vocative is not None:
            position = vocative
            continue
        m = _WORD_RE.match(text, position, end)
        if m is None:
            break
        word = m.group(0).lower()
        after = text[m.end()] if m.end() < end else "."
        if (word in _OPENERS and after.isspace()) or (
                word in lx.INTERJECTIONS and after in ",.!?;:-–—" and word not in ("no", "yes")):
            position = m.end()
            continue
        break
    return (position, end) if position < end else (start, end)


class _Weights:
    """:func:`_score` of any stretch of ``text[start:end]`` that begins and ends beside a
    character that is no part of a word, each word weighed once: weighing both sides of
    every clause joint anew made a long sentence cost the square of its length (a 20,000
    character line of minified CSS or of clauses joined by "; ": 0.5 to 2 s)."""

    def __init__(self, text: str, start: int, end: int, skip: list[tuple[int, int]]) -> None:
        self.starts: list[int] = []
        self.totals: list[float] = [0.0]  # scores of the words before each one, summed
        for m in _WORD_RE.finditer(text, start, end):
            if skip and any(s <= m.start() < e for s, e in skip):
                continue
            self.starts.append(m.start())
            self.totals.append(self.totals[-1] + _word_points(m.group(0).lower())[0])

    def score(self, start: int, end: int) -> float:
        """The score of the words that start in ``[start, end)`` (those are the words of
        ``text[start:end]`` when neither end cuts a word)."""
        return self.totals[bisect_left(self.starts, end)] - self.totals[bisect_left(self.starts, start)]


def _clauses(text: str, start: int, end: int, skip: list[tuple[int, int]],
             min_content: int) -> list[tuple[int, int]]:
    """Split the sentence ``text[start:end]`` at clause joints where both sides stand alone."""
    pieces: list[tuple[int, int]] = []
    current = start
    weights: _Weights | None = None
    for m in _CLAUSE_RE.finditer(text, start, end):
        left = _trim(text, current, m.start())
        right = _trim(text, m.end(), end)
        if left[1] <= left[0] or right[1] <= right[0]:
            continue
        if _SUBORDINATE_START.match(text, right[0]):
            continue  # "..., which refreshes me": not an independent clause
        # each side is cut beside a joint's comma, semicolon, dash or space: no word is cut
        weights = weights or _Weights(text, start, end, skip)
        if weights.score(*left) >= min_content and weights.score(*right) >= min_content:
            pieces.append(left)
            current = m.end()
    last = _trim(text, current, end)
    if last[1] > last[0]:
        pieces.append(last)
    return pieces


def split_events(
    text: str,
    analysis: TextAnalysis,
    min_content_tokens: int = 3,
    *,
    anchor: datetime | date | None = None,
    max_units: int | None = None,
) -> list[EventUnit]:
    """Split one turn into event units.

    Code (fenced blocks, inline code) and markdown table rows never become events.

    Args:
        text: the turn's text.
        analysis: the language pipeline's analysis of exactly this text.
        min_content_tokens: content words a piece needs to be an event on its own.
        anchor: when the turn was said; time expressions are resolved against it. Without
            an anchor the units carry only the times that say their year ("in 2019", "on
            May 7, 2021"): those need none.
        max_units: keep at most this many units: the ones that say the most (content words,
            with a named mention counting one more), in text order. None keeps all.

    Returns:
        The units in text order (possibly none), indexed 0, 1, ... in that order.

    Raises:
        ValueError: if ``analysis`` is not an analysis of ``text``, or a limit is below 1.
    """
    if analysis.text != text:
        raise ValueError("the analysis was made for a different text")
    if min_content_tokens < 1:
        raise ValueError("min_content_tokens must be at least 1")
    if max_units is not None and max_units < 1:
        raise ValueError("max_units must be at least 1")
    excluded = code_spans(text) + table_spans(text) if ("`" in text or "~~~" in text or "|" in text) else []
    addressees = tuple(m for m in analysis.mentions if _is_vocative(text, m))
    vocatives = [(m.char_start, m.char_end) for m in addressees]
    named_spans = [(m.char_start, m.char_end) for m in analysis.mentions
                   if m.label not in ("DATE", "TIME", "CONCEPT")
                   and (m.char_start, m.char_end) not in vocatives]

    date_spans = [(m.char_start, m.char_end) for m in analysis.mentions if m.label == "DATE"]
    pieces: list[_Piece] = []
    for start, end in _segments(text, analysis.sentences, excluded):
        for start, end in _clauses(text, start, end, vocatives, min_content_tokens):
            content, solid = _score(text[start:end], vocatives, start)
            # A time expression anchors a proposition ("when we volunteered last year").
            dated = sum(1 for s, e in date_spans if start <= s and e <= end)
            content, solid = content + dated, solid + dated
            named = any(start <= s and e <= end for s, e in named_spans)
            pieces.append(_Piece(start, end, content, solid, named, dated > 0 and solid > dated))
    if not pieces:
        return []

    groups = [_strip_opening(text, start, end, vocatives)
              for start, end in _group(pieces, min_content_tokens, excluded)]
    if max_units is not None and len(groups) > max_units:
        groups = _most_content(groups, pieces, max_units)
    if anchor is not None:
        refs = find_time_expressions(text, anchor)
    else:  # an undated turn: only what says its year ("in 2019", "on May 7, 2021") is a time without an anchor
        refs = [r for r in find_time_expressions(text, _NO_ANCHOR) if _YEAR.search(r.expression)] if _YEAR.search(text) else []
    masked = excluded + address_spans(text) if refs else []
    if masked:  # "last Monday" in code, a table or a web address (".../releases/2021-03-04/") is no time said
        refs = [r for r in refs if not inside(masked, r.char_start, r.char_end)]
    units: list[EventUnit] = []
    for start, end in groups:
        mentions = tuple(m for m in analysis.mentions
                         if start <= m.char_start and m.char_end <= end)
        times = tuple(r for r in refs if start <= r.char_start and r.char_end <= end)
        units.append(EventUnit(text[start:end], start, end, mentions, times, len(units),
                               addressees))
    return units


def _segments(text: str, sentences: tuple[tuple[int, int], ...],
              excluded: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The sentences, cut at line breaks (list items, headings and paragraphs without a final
    stop are units of their own), without the lines that lie in code or a table."""
    out: list[tuple[int, int]] = []
    for s_start, s_end in sentences:
        start = s_start
        while start < s_end:
            cut = text.find("\n", start, s_end)
            end = s_end if cut < 0 else cut
            lo, hi = _trim(text, start, end)
            if hi > lo and not (excluded and inside(excluded, lo, hi)):
                out.append((lo, hi))
            start = end + 1
    return out


def _most_content(groups: list[tuple[int, int]], pieces: list[_Piece], limit: int) -> list[tuple[int, int]]:
    """The ``limit`` groups whose pieces say the most, in text order (earlier wins ties)."""
    def weight(group: tuple[int, int]) -> float:
        start, end = group
        inner = [p for p in pieces if start <= p.start and p.end <= end] or [
            p for p in pieces if p.start < end and start < p.end]
        return sum(p.content for p in inner) + (1.0 if any(p.named for p in inner) else 0.0)

    ranked = sorted(range(len(groups)), key=lambda k: (-weight(groups[k]), k))[:limit]
    return [groups[k] for k in sorted(ranked)]


#: A year written out: a time expression holding one names its dates whenever it was said.
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
#: What an undated turn's expressions are resolved against (only those that say their year are kept).
_NO_ANCHOR = datetime(2000, 1, 1)


def _group(pieces: list[_Piece], min_content: int, excluded: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    """Merge short pieces into their neighbours; drop pieces that carry nothing. A piece is not
    merged across code or a table (``excluded``): the event would hold it."""
    strong = [p.content >= min_content and p.solid > 0 for p in pieces]
    carries = [p.named or (p.content >= 1.5 and p.solid > 0) for p in pieces]
    if excluded:  # a piece beyond code or a table from the one it would join stands alone
        for k in range(1, len(pieces)):  # (a piece joins the event before it)
            if carries[k] and not strong[k] and inside(excluded, pieces[k - 1].end, pieces[k].start):
                strong[k] = True
        first = next((k for k, s in enumerate(strong) if s), None)
        for k in range(first - 1 if first is not None else -1, -1, -1):  # (one the turn opens with, the first event)
            if carries[k] and first is not None and inside(excluded, pieces[k].end, pieces[first].start):
                strong[k], first = True, k
    if not any(strong):
        kept = [p for p, c in zip(pieces, carries) if c]
        if not kept:
            return []
        total = sum(p.content for p in pieces)
        if total >= min_content or any(p.named or p.dated for p in kept):
            return [(kept[0].start, kept[-1].end)]
        return []
    spans: list[list[int]] = []  # [start, end] of each strong piece, grown by attachments
    owner: list[int | None] = []
    for k, piece in enumerate(pieces):
        if strong[k]:
            spans.append([piece.start, piece.end])
        owner.append(len(spans) - 1 if strong[k] else None)
    first_strong = next(k for k, s in enumerate(strong) if s)
    for k, piece in enumerate(pieces):
        if strong[k] or not carries[k]:
            continue
        if k < first_strong:
            target = 0  # the turn opens with it: attach to the first event
            spans[target][0] = min(spans[target][0], piece.start)
        else:
            target = max(o for o in owner[:k] if o is not None)
            spans[target][1] = max(spans[target][1], piece.end)
    return [(s, e) for s, e in spans]
