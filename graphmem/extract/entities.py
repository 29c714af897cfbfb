"""Which mentions become Entity nodes: the named things a user would look up.

The language pipeline finds many more mentions than a memory should keep as entities: key
phrases (``CONCEPT``), nationality adjectives (``NORP``), and in long assistant answers every
capitalised word of a heading or a bold list lead ("**Tips:**", "**Bench Press**",
"Fair Trading Cost Plus Contracts"). :func:`select_entities` keeps people, places,
organisations, products, works and events:

* labels ``PERSON``, ``GPE``, ``LOC``, ``FAC``, ``ORG``, ``EVENT``, ``WORK_OF_ART``,
  ``PRODUCT`` and ``MISC`` (another proper name); never key phrases, times, nationalities or
  languages;
* nothing inside code (fenced blocks and inline ``code``);
* a name made only of ordinary English words (:func:`~graphmem.extract.vocabulary.is_english_word`)
  is kept only when it reads as a name: several words in running prose ("Black Lives Matter",
  "Big Island"), not a heading, a bold or italic span, the lead of a line or list item, or a
  title-cased line; a single ordinary word ("Tips", "Budget", "Princess") never, unless a
  gazetteer knows it as a place or holiday;
* a name with a word no dictionary knows ("Zappos", "Maui", "NVivo") is kept anywhere
  outside code.

People are kept as found: the pipeline labels ``PERSON`` only from known speakers and names,
the first-name gazetteer and titles ("Dr. ...").

Measured on 100 hand-labelled turns of the LongMemEval dev haystacks
(``tests/data/lme_dev12_entities_gold.json``): see ``tests/unit/test_extract_entities.py``.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from graphmem.extract import gazetteer as gz
from graphmem.extract import lexicon as lx
from graphmem.extract.markup import address_spans, code_spans, inside
from graphmem.extract.nlp import Mention, TextAnalysis
from graphmem.extract.vocabulary import MODERN_WORDS, is_english_word

__all__ = ["LOOKUP_LABELS", "select_entities"]

#: Labels of mentions that may become Entity nodes.
LOOKUP_LABELS = frozenset({"PERSON", "GPE", "LOC", "FAC", "ORG", "EVENT", "WORK_OF_ART", "PRODUCT", "MISC"})

_EMPHASIS_RE = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1|(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_LINE_LEAD_RE = re.compile(r"[ \t]*(?:#{1,6}[ \t]+|>[ \t]*|(?:[-*+•]|\d{1,3}[.)])[ \t]+)*(?:\*\*|__|\*|_)?")
_WORD_RE = re.compile(r"[^\W\d_][\w'’.-]*")
_CONNECTORS = gz.NAME_CONNECTORS | frozenset({"the", "a", "an", "and", "to", "for", "on", "in", "at", "by", "with"})


class _Layout:
    """Where the headings, emphasis and line leads of one text are."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.code = code_spans(text) + address_spans(text)  # no names in code, web addresses or file paths
        self.emphasis = [(m.start(), m.end()) for m in _EMPHASIS_RE.finditer(text)]
        self._lines: dict[int, tuple[int, int, bool, bool]] = {}

    def line(self, position: int) -> tuple[int, int, bool, bool]:
        """``(lead_end, line_end, heading, title_cased)`` of the line holding ``position``."""
        start = self.text.rfind("\n", 0, position) + 1
        cached = self._lines.get(start)
        if cached is None:
            end = self.text.find("\n", start)
            end = len(self.text) if end < 0 else end
            lead = _LINE_LEAD_RE.match(self.text, start, end)
            lead_end = lead.end() if lead else start
            heading = self.text[start:end].lstrip().startswith("#")
            long_words = [w for w in _WORD_RE.findall(self.text[start:end]) if len(w) >= 4]
            capitals = sum(1 for w in long_words if w[0].isupper())
            # a heading capitalises its words and has no final stop; a sentence that names
            # things ("Complaints go to Fair Trading in Sydney.") ends with one
            title_cased = (len(long_words) >= 2 and capitals >= 0.6 * len(long_words)
                           and not self.text[start:end].rstrip(" \t*_").endswith((".", "!", "?")))
            cached = (lead_end, end, heading, title_cased)
            self._lines[start] = cached
        return cached

    def title_context(self, mention: Mention) -> bool:
        """A heading, an emphasised span, the lead of a line or list item, or a title-cased line."""
        if inside(self.emphasis, mention.char_start, mention.char_end):
            return True
        lead_end, _end, heading, title_cased = self.line(mention.char_start)
        if heading or title_cased:
            return True
        # what stands between the line's lead and the mention, less quotes and emphasis marks: nothing or an
        # article (read from both ends, not copied: a long line of mentions copied itself once per mention)
        text, start, end = self.text, lead_end, mention.char_start
        while start < end and text[start] in _LEAD_MARKS:
            start += 1
        while end > start and text[end - 1] in _LEAD_MARKS:
            end -= 1
        return end <= start or (end - start <= 3 and text[start:end].lower() in ("the", "a", "an"))


_LEAD_MARKS = frozenset(" \t\"“'‘(*_")


def _gazetteer_knows(mention: Mention) -> bool:
    key = " ".join(mention.text.lower().split())
    return (gz.place_label(key) is not None or gz.place_label("the " + key) is not None
            or key in gz.HOLIDAYS)


def _content_words(text: str) -> list[str]:
    return [w for w in _WORD_RE.findall(text) if w.lower() not in _CONNECTORS]


_ACRONYM_RE = re.compile(r"^[A-Z]{2,6}s?$")
_DEMONYM_ENDINGS = ("ian", "ean", "ese", "ish", "ic", "an", "ani", "ern")


#: Words a template's blank is written with ("[Your Name]", "[Company Name]", "[Insert Date]").
_BLANK_WORDS = frozenset("name your insert company organization organisation recipient address email phone number "
                         "title position job date city".split())
_BRACKETED = re.compile(r"\[([^\[\]\n]{1,40})\](?![(\[])")


def _placeholder(text: str, mention: Mention) -> bool:
    """The mention is in a template's blank: square brackets (no markdown link) holding a word such
    as "Name" ("Hi [Name]," "Best, [Your Name]", "[Company Name]")."""
    opening = text.rfind("[", max(0, mention.char_start - 40), mention.char_start + 1)
    if opening < 0:
        return False
    found = _BRACKETED.match(text, opening)
    return (found is not None and found.end() >= mention.char_end
            and any(word in _BLANK_WORDS for word in found.group(1).lower().split()))


def _compound_modifier(text: str, mention: Mention) -> bool:
    """The mention is the first half of a hyphenated modifier: "Rose-colored"."""
    after = text[mention.char_end:mention.char_end + 2]
    return len(after) == 2 and after[0] in "-–" and after[1].islower()


def _common_acronym(text: str, word: str) -> bool:
    """An abbreviation used as a common noun: a plural ("MDIs"), one whose plural the text
    also uses ("MDI" beside "MDIs"), or one spelled out in dictionary words before it
    ("Natural Language Processing (NLP)")."""
    if not _ACRONYM_RE.match(word):
        return False
    if word.endswith("s") or word.lower() in _COMMON_ABBREVIATIONS:
        return True
    # the substring tests are necessary for either pattern and spare compiling it for the
    # many acronyms of a long text that never occur so (a third of entity selection's time)
    if word + "s" in text and re.search(rf"\b{re.escape(word)}s\b", text):
        return True
    if f"({word})" not in text:
        return False
    expansion = re.search(rf"((?:[\w'’-]+[ \t]+){{{len(word) - 1},{len(word) + 2}}}[\w'’-]+)[ \t]*\({re.escape(word)}\)", text)
    if expansion:
        initials = [w for w in expansion.group(1).split() if w.lower() not in _CONNECTORS][-len(word):]
        if "".join(w[0] for w in initials).upper() == word and all(is_english_word(w) for w in initials):
            return True
    return False


_COMMON_ABBREVIATIONS = frozenset("vip bbq diy faq ceo cfo cto hr it pr ok tv pc ai ui ux id pdf url".split())


def _kind_word(word: str) -> bool:
    """A word that names a kind of place, organisation or event, or a modern common noun."""
    lower = word.lower().rstrip(".")
    return lower in gz.ORG_WORDS or lower in gz.PLACE_WORDS or lower in gz.EVENT_WORDS or lower in MODERN_WORDS


def _demonym(text: str, mention: Mention) -> bool:
    """A proper adjective before a common noun: "Hawaiian marine life", "Carnatic music"."""
    word = mention.text.lower()
    if not word.endswith(_DEMONYM_ENDINGS):
        return False
    nxt = re.match(r"[ \t]+([a-z][a-z'’-]*)", text[mention.char_end:mention.char_end + 40])
    return nxt is not None and nxt.group(1) not in lx.FUNCTION_WORDS


def select_entities(analysis: TextAnalysis, known: Collection[str] = ()) -> tuple[Mention, ...]:
    """The mentions of ``analysis`` that name something a user would look up (see the module doc).

    Args:
        analysis: the language pipeline's analysis of one text.
        known: lower-case one-word names already taken as names (the memory's entities, and
            names other texts of the same ingest use): such a word stays a name where it
            would otherwise read as an ordinary word ("Biscuit is a great name").

    Returns:
        The kept mentions, in the analysis's order (a subset of ``analysis.mentions``).
    """
    layout: _Layout | None = None
    kept: list[Mention] = []
    for mention in analysis.mentions:
        if mention.label not in LOOKUP_LABELS or not mention.text.strip() or "\n" in mention.text:
            continue
        if layout is None:
            layout = _Layout(analysis.text)
        if layout.code and inside(layout.code, mention.char_start, mention.char_end):
            continue
        if _placeholder(analysis.text, mention):
            continue  # "Hi [Name]," "Best, [Your Name]": a template's blank, not a name
        if _compound_modifier(analysis.text, mention):
            continue  # "Rose-colored", "Apple-like"
        if mention.label == "PERSON":
            kept.append(mention)
            continue
        if known and " " not in mention.text.strip() and mention.text.strip().lower() in known:
            kept.append(mention)
            continue
        words = _content_words(mention.text)
        if not words:
            continue
        if len(words) == 1 and (_common_acronym(analysis.text, words[0]) or _demonym(analysis.text, mention)):
            continue
        if any(not is_english_word(w) for w in words) or _gazetteer_knows(mention):
            kept.append(mention)
            continue
        # Every word is an ordinary English word: a name only as several words, in quotes
        # ("Twist and Shout") or in running prose ("Black Lives Matter"), not as a heading.
        if len(words) == 1 and (mention.label == "WORK_OF_ART" or _kind_word(words[0])):
            continue  # a quoted ordinary word ("Princess" theme), or "Foundation", "Road", "Wi-Fi" alone
        if not all(w.lower() in lx.GENERIC_NOUNS for w in words) and (
                mention.label == "WORK_OF_ART" or not layout.title_context(mention)):
            kept.append(mention)
    return tuple(kept)
