"""Sentences, named entities and key phrases for chat turns, with or without a trained model.

:class:`LanguagePipeline` wraps spaCy. When a trained English pipeline (``en_core_web_sm`` by
default) is installed it uses its sentence boundaries, named entities and noun chunks. When
it is not, it runs a rule-based pipeline: ``spacy.blank("en")`` for tokens, a
``sentencizer`` for sentences, and the rules in this module for mentions:

* speakers and other known names, including their first names, unambiguous short forms
  ("Mel" for "Melanie"), common nicknames and possessives ("Caroline's") -> ``PERSON``;
* capitalised multi-word names that are not just a capitalised word at a sentence start
  ("Hey", "Wow", "Thanks", "The" ...), labelled from gazetteers of countries, US states,
  major cities and regions (``GPE`` / ``LOC``), nationalities and groups (``NORP``), holidays
  and big events (``EVENT``), organisation and place words ("... University", "... Club",
  "... Park"), first names and titles ("Dr. ...") (``PERSON``); other names get ``MISC``;
* quoted titles (``"Perfect"``, "Becoming Nicole" in quotes) -> ``WORK_OF_ART``;
* time expressions (see :mod:`graphmem.extract.temporal`), weekday and month names ->
  ``DATE``; clock times -> ``TIME``;
* key phrases -> ``CONCEPT``: runs of content words (adjectives and nouns, "pottery class",
  "LGBTQ support group", "adoption agency") cut at function words, verbs, adverbs and
  punctuation, with evaluative adjectives ("great", "new") trimmed from the front and
  generic nouns ("thing", "time", "lot", "pic") dropped.

Example:
    >>> pipeline = LanguagePipeline.load(None)          # the rule-based pipeline
    >>> [a] = pipeline.analyse(["Mel joined a pottery class in Paris."], speakers=["Melanie"])
    >>> [(m.text, m.label) for m in a.mentions]
    [('Mel', 'PERSON'), ('pottery class', 'CONCEPT'), ('Paris', 'GPE')]
"""

from __future__ import annotations

import bisect
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from graphmem.extract import gazetteer as gz
from graphmem.extract import lexicon as lx
from graphmem.extract.temporal import find_time_spans
from graphmem.extract.vocabulary import is_english_word
from graphmem.scripts import is_mark

__all__ = [
    "ENTITY_LABELS",
    "TIME_LABELS",
    "LanguagePipeline",
    "Mention",
    "NameIndex",
    "TextAnalysis",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


logger = logging.getLogger(__name__)

#: Labels of mentions that denote entities (people, places, things, ideas).
ENTITY_LABELS = frozenset(
    {"PERSON", "GPE", "LOC", "FAC", "ORG", "NORP", "EVENT", "WORK_OF_ART", "PRODUCT",
     "LANGUAGE", "MISC", "CONCEPT"})
#: Labels of mentions that denote times; they are resolved by the temporal module.
TIME_LABELS = frozenset({"DATE", "TIME"})

_TRAINED_KEEP = frozenset({"PERSON", "GPE", "LOC", "FAC", "ORG", "NORP", "EVENT", "WORK_OF_ART",
                           "PRODUCT", "LANGUAGE", "DATE", "TIME"})


@dataclass(frozen=True)
class Mention:
    """A span of a text that names something.

    Attributes:
        text: the span as written.
        label: ``PERSON``, ``GPE``, ``LOC``, ``FAC``, ``ORG``, ``NORP``, ``EVENT``,
            ``WORK_OF_ART``, ``PRODUCT``, ``LANGUAGE``, ``MISC`` (another proper name),
            ``CONCEPT`` (a key phrase), ``DATE`` or ``TIME``.
        char_start: offset of the first character in the analysed text.
        char_end: offset just past the last character.
    """

    text: str
    label: str
    char_start: int
    char_end: int

    def shifted(self, offset: int) -> Mention:
        """The same mention with its offsets moved by ``offset`` characters."""
        return Mention(self.text, self.label, self.char_start + offset, self.char_end + offset)


@dataclass(frozen=True)
class TextAnalysis:
    """What the language pipeline found in one text.

    Attributes:
        text: the analysed text.
        sentences: ``(char_start, char_end)`` of each sentence, in order, covering the text
            without its surrounding whitespace.
        mentions: named entities, times and key phrases, sorted by position. Named entities
            do not overlap each other; a ``CONCEPT`` may contain a named entity that modifies
            it ("LGBTQ support group" contains "LGBTQ").
    """

    text: str
    sentences: tuple[tuple[int, int], ...]
    mentions: tuple[Mention, ...]

    def mentions_between(self, start: int, end: int) -> tuple[Mention, ...]:
        """Mentions lying wholly inside ``[start, end)``."""
        return tuple(m for m in self.mentions if m.char_start >= start and m.char_end <= end)

    @property
    def entities(self) -> tuple[Mention, ...]:
        """Mentions whose label is in :data:`ENTITY_LABELS` (no dates or times)."""
        return tuple(m for m in self.mentions if m.label in ENTITY_LABELS)


# --------------------------------------------------------------------------- known names


def _fold(text: str) -> str:
    """Lower-case without accents, for matching names ("Zoë" == "zoe")."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def first_word(text: str) -> str:
    """The first whitespace-separated word of ``text``, or "" (a run of marks that fold to
    nothing, such as a lone combining accent, has none)."""
    words = text.split(maxsplit=1)
    return words[0] if words else ""


def _opens_text(token_text: str) -> bool:
    """A token after which a capitalised word starts a text unit: a quote, bracket, colon or
    markdown markup ("**", "*", "#", "-", "•", ">")."""
    return bool(token_text) and all(c in _OPENING_MARKS for c in token_text)


_OPENING_MARKS = frozenset('"“‘(:[*#_-–—•>')
# chat words no dictionary lists, capitalised at a sentence start ("Oof, ...", "Lemme see")
_CHAT_WORDS = _words("oof y'all y’all yall lemme gimme gonna wanna gotta dunno kinda sorta omg lol lmao "
                     "btw tbh idk imo ikr ty thx pls plz")


def _line_break_between(text: str, left: "_Token", right: "_Token") -> bool:
    """True when a line break separates two tokens: names do not run across lines."""
    return "\n" in text[left.end:right.start]


def _is_common_word(lower: str) -> bool:
    """True for ordinary English words that are not names when written with a capital."""
    return lower in _COMMON_WORDS


class NameIndex:
    """The surface forms under which known people may be mentioned.

    Built from full names ("Melanie", "Caroline Smith"). Forms are accent-folded lower-case
    token tuples: the full name, each of its parts of three or more letters, an unambiguous
    prefix of three or more letters of a first name ("mel" for "melanie" when no other known
    first name starts with it) and common nicknames ("jim" for "james").

    Args:
        names: full names of known people.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.entity_words: frozenset[str] = frozenset()
        """One-word names of the memory's entities (see ``LanguagePipeline.analyse``)."""
        self.forms: dict[tuple[str, ...], str] = {}
        self.short_forms: set[tuple[str, ...]] = set()  # prefixes and nicknames
        self._ambiguous: set[tuple[str, ...]] = set()
        full_names = []
        for name in names:
            tokens = tuple(_fold(t) for t in re.findall(r"[\w'’-]+", name))
            if tokens:
                full_names.append((name.strip(), tokens))
        firsts: dict[str, list[str]] = {}
        for name, tokens in full_names:
            self._add(tokens, name)
            for part in tokens:
                if len(part) >= 3 and part not in lx.FUNCTION_WORDS:
                    self._add((part,), name)
            firsts.setdefault(tokens[0], []).append(name)
        for first, owners in firsts.items():
            if len(set(owners)) != 1:
                continue
            owner = owners[0]
            for size in range(3, len(first)):
                prefix = first[:size]
                if _is_common_word(prefix):
                    continue
                if sum(1 for other in firsts if other.startswith(prefix)) == 1 \
                        and (prefix,) not in self.forms:
                    self._add((prefix,), owner)
                    self.short_forms.add((prefix,))
        for nick, fulls in gz.NICKNAMES.items():
            owners = {firsts[f][0] for f in fulls if f in firsts and len(set(firsts[f])) == 1}
            if len(owners) == 1 and (nick,) not in self.forms:
                self._add((nick,), owners.pop())
                self.short_forms.add((nick,))
        for form in self._ambiguous:
            self.forms.pop(form, None)
        self.max_len = max((len(f) for f in self.forms), default=0)
        self.first_tokens = frozenset(f[0] for f in self.forms)

    def _add(self, form: tuple[str, ...], name: str) -> None:
        owner = self.forms.get(form)
        if owner is not None and owner != name:
            self._ambiguous.add(form)
        else:
            self.forms[form] = name

    def owner(self, folded_tokens: tuple[str, ...]) -> str | None:
        """The full name a form stands for, or None."""
        return self.forms.get(folded_tokens)

    def __bool__(self) -> bool:
        return bool(self.forms)


# --------------------------------------------------------------------------- token classes

_TIME_WORDS = _words("""
monday tuesday wednesday thursday friday saturday sunday mondays tuesdays wednesdays
thursdays fridays saturdays sundays january february march april june july august
september october november december today tonight tomorrow yesterday weekend weekends
morning mornings afternoon evening evenings night nights week weeks month months year years
day days
""")
_SEASON_WORDS = _words("spring summer fall autumn winter march may")
_WEEKDAY_MONTH = _words("""
monday tuesday wednesday thursday friday saturday sunday mondays tuesdays wednesdays
thursdays fridays saturdays sundays january february april june july august september
october november december
""")
_TIME_RE = re.compile(
    r"(?<![\w:])(?:(?:[01]?\d|2[0-3])(?::[0-5]\d)?\s*(?:a\.?m\.?|p\.?m\.?)(?![\w])|"
    r"(?:[01]?\d|2[0-3]):[0-5]\d(?![\w:])|noon(?![\w])|midnight(?![\w]))",
    re.IGNORECASE,
)
_QUOTED_RE = re.compile(r"(?<![\w])[\"“]([^\"“”\n]{1,80}?)[\"”](?![\w])")
_LY_NOUNS = _words("""
family rally ally belly jelly bully lily holly assembly butterfly supply reply italy july
fly monopoly anomaly folly dolly tally melancholy ugly lovely friendly lonely silly holy
daily early only
""")
_ADJ_SUFFIX_EXCEPTIONS = _words("""
detective representative initiative motive archive olive native executive relative
objective perspective alternative narrative incentive sedative adhesive explosive
table cable vegetable bible stable fable marble noble bubble trouble double
""")

_VERB_CONTEXT = _words("""
to i you we they he she it can could will would should might must 'll 'd n't not do does
did dont always never just really also often usually sometimes please let lets 's 'm 're
’ll ’d n’t ’s ’m ’re wanna gonna gotta everyone someone everybody somebody nobody who
me him us them
""")
_ING_NOUNS = _words("""
thing something anything everything nothing morning evening ceiling building wedding
clothing pudding spring string king ring wing sibling offering lightning painting
drawing meeting feeling ending beginning earring stuffing seasoning icing frosting
evening dumpling darling sterling
""")
_COMMON_WORDS = (_SEASON_WORDS | _TIME_WORDS | lx.FUNCTION_WORDS | lx.VERB_FORMS | lx.ADJECTIVES
                 | lx.ADVERBS | lx.INTERJECTIONS | lx.GENERIC_NOUNS | lx.KINSHIP_WORDS)
_HARD_BREAKS = lx.FUNCTION_WORDS | lx.INTERJECTIONS | lx.ADVERBS | _TIME_WORDS
_VERBAL_S = _words("""
helps looks matters sounds feels needs loves hopes cares supports works
""")
_IRREGULAR_PLURAL_NOUNS = _words("kids children people men women friends parents folks")


def _is_plural_noun(lower: str) -> bool:
    if lower in _IRREGULAR_PLURAL_NOUNS:
        return True
    return (len(lower) > 3 and lower.endswith("s") and not lower.endswith(("ss", "us", "is"))
            and lower not in lx.FUNCTION_WORDS and lower not in lx.VERB_FORMS
            and _word_class(lower) == _NOUN)


_ARTICLES = _words("a an the")
_DETERMINERS = _words("""
the a an my your his her our their this that its these those some any every each no
""")
_VERB_NEXT = _words("""
like to up out off down back around away over so really just too
""")
_AUXILIARIES = _words("""
is are was were 's ’s has have had can could will would should may might must does did
do 're ’re
""")
_OBJECT_START = _words("""
the a an my your his her our their this that these those me you him us them it some any
all every each what how myself yourself themselves ourselves someone something everyone
""")

_BREAK, _NOUN, _ADJ, _JOIN, _PROPN = 0, 1, 2, 3, 4
_INTERJECTION_STARTS = lx.INTERJECTIONS | frozenset({"dear", "hi", "hey", "hello"})


def _is_cap(text: str) -> bool:
    if text[:1].islower() and text.isalpha() and any(c.isupper() for c in text[1:3]):
        return True  # a brand written in camel case: "eBay", "iOS", "iPhone"
    if not text or not text[0].isupper() or text == "I":
        return False
    core = text.rstrip(".")
    if len(core) == 1 and text == core:
        return False  # a lone capital letter ("A")
    return all(c.isalpha() or c in "'’.-+&" or is_mark(c) for c in text)


def _word_class(lower: str) -> int:
    """Context-free class of a lower-case word for key-phrase runs (cached by the caller)."""
    if not lower or not lower[0].isalpha():
        return _BREAK
    if not all(c.isalpha() or c in "'’" or is_mark(c) for c in lower):
        return _BREAK
    if (lower in lx.FUNCTION_WORDS or lower in lx.INTERJECTIONS or lower in lx.ADVERBS
            or lower in _TIME_WORDS):
        return _BREAK
    if lower.endswith("ly") and lower not in _LY_NOUNS and len(lower) > 4:
        return _BREAK
    if lower in lx.ADJECTIVES or lower in lx.PHRASE_STRIP:
        return _ADJ
    if lower.endswith(_VERB_SUFFIXES) and len(lower) > 6:
        return _BREAK  # "symbolizes", "clarified"
    if lower.endswith("ed") and len(lower) >= 5 and not lower.endswith("eed"):
        return _BREAK  # an unknown participle: "fired (up)"
    if _LAUGHTER_RE.match(lower):
        return _BREAK  # "ahhahha", "hahaha", "wooow"
    if lower.endswith(("istic", "ical")):
        return _ADJ
    if _is_graded_adjective(lower):
        return _ADJ
    if lower not in _ADJ_SUFFIX_EXCEPTIONS and len(lower) > 5 and lower.endswith(
            ("ful", "ous", "ive", "less", "able", "ible", "ish")):
        return _ADJ
    return _NOUN


# Each alternative has one way to match a word: "(?:a*h+a+h*)+" and "(?:l+o+l+)+" (the same
# words as "a*h+a[ah]*" and "l+o+(?:ll+o+)*l+", checked on every word of up to 13 letters) had
# exponentially many, and a capitalised laugh ending in another letter ("Hahahaha...hj" of 83
# characters) took 7 s to refuse, each two more letters about twice as long.
_LAUGHTER_RE = re.compile(r"^a*h+a[ah]*$|^(?:h+e+)+$|^l+o+(?:ll+o+)*l+$|^w+o+w+$|^o+h+$|^a+w+$|"
                          r"^y+a+y+$|^h+m+$|^u+g+h+$|^w+o+a+h+$|^x+d+$|^(?:ha|he|hi|ah){2,}h?$")
_VERB_SUFFIXES = ("ize", "izes", "ized", "izing", "ify", "ifies", "ified", "ifying")


def _gerund_class(lower: str, base: str | None, tokens: list[_Token], i: int) -> int:
    """Whether an -ing word is a noun here ("the funding", "hiking", "balancing act")."""
    prev = tokens[i - 1].lower if i > 0 else ""
    nxt = tokens[i + 1].lower if i + 1 < len(tokens) else ""
    if prev in _DETERMINERS:
        return _NOUN  # "the extra funding", "a painting"
    next_class = _word_class(nxt) if nxt and nxt[0].isalpha() else _BREAK
    activity = base is not None and base in lx.ACTIVITY_VERBS
    if (base is None or activity) and next_class == _NOUN and nxt not in lx.VERB_FORMS:
        return _NOUN  # a modifier: "camping trip", "dumpster diving"
    if activity and nxt not in _OBJECT_START and nxt not in _VERB_NEXT:
        return _NOUN  # a pursuit: "I love hiking", "Painting is my thing"
    if _word_class(prev) == _ADJ and next_class == _BREAK and nxt not in lx.FUNCTION_WORDS \
            and nxt not in lx.ADVERBS:
        return _NOUN  # "some serious training."
    return _BREAK


def _is_joiner(tokens: list[_Token], i: int) -> bool:
    """A hyphen or slash glued between two words ("self-care", "advice/assistance")."""
    tok = tokens[i]
    return (tok.text in ("-", "/", "–") and 0 < i < len(tokens) - 1 and not tokens[i - 1].space
            and not tok.space and tokens[i - 1].text[-1:].isalpha()
            and tokens[i + 1].text[:1].isalpha())


def _is_graded_adjective(lower: str) -> bool:
    """Comparatives and superlatives of known adjectives ("bigger", "nicest", "happier")."""
    for suffix in ("er", "est"):
        if not lower.endswith(suffix) or len(lower) < len(suffix) + 3:
            continue
        stem = lower[: -len(suffix)]
        candidates = (stem, stem + "e", stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] else "",
                      stem[:-1] + "y" if stem.endswith("i") else "")
        if any(c and c in lx.ADJECTIVES for c in candidates):
            return True
    return False


#: Pronouns after which a sentence's capitalised first word is the verb it also is ("May I", "Will
#: you", "Mark my words", "Bill me later"), not the speaker of that name.
_OBJECT_PRONOUNS = frozenset({"i", "you", "we", "me", "my", "us", "our", "your", "he", "she", "they", "him", "them", "it"})


#: Punctuation after a combining accent ("Zoë." with the diaeresis typed apart, as macOS input gives
#: it): spaCy's suffix rules split a stop from a letter only, so "Zoë." was one token and no name.
_AFTER_A_MARK = r"(?<=[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f])[.,!?;:…)\]\"'”’]"


def _marks_end_words(nlp: Any) -> Any:
    """``nlp`` whose tokenizer also splits punctuation after a combining accent (:data:`_AFTER_A_MARK`)."""
    from spacy.util import compile_suffix_regex

    nlp.tokenizer.suffix_search = compile_suffix_regex([*nlp.Defaults.suffixes, _AFTER_A_MARK]).search
    return nlp


#: A run of symbols (no letter, digit or space) long enough to matter: spaCy's tokenizer peels a
#: word's prefixes and suffixes one character at a time, so its time grows with the square of a
#: run's length ("=" * 4000: 6.7 s, "(" * 20000 + ")" * 20000: 89 s for one add).
_SYMBOL_RUN = re.compile(r"(?:[^\w\s]|_){100,}")


def _tokenizable(text: str) -> str:
    """``text`` with each long run of symbols blanked to spaces of its length (offsets unchanged;
    no name or sentence is in one). The text is stored and embedded as it is."""
    if len(text) < 100:
        return text
    return _SYMBOL_RUN.sub(lambda m: " " * len(m.group()), text)


@dataclass(slots=True)
class _Token:
    text: str
    lower: str
    start: int
    end: int
    space: bool
    sent_start: bool


# --------------------------------------------------------------------------- pipeline


class LanguagePipeline:
    """spaCy-based sentence and mention finder; trained when available, rule-based otherwise.

    Use :meth:`load` to build one. The pipeline is deterministic and holds no per-call state,
    so one instance can serve many ingestions.

    Attributes:
        kind: ``"trained"`` or ``"rule-based"``.
        model: the trained pipeline's name, or None for the rule-based pipeline.
    """

    def __init__(self, nlp: Any, kind: str, model: str | None = None) -> None:
        if kind not in ("trained", "rule-based"):
            raise ValueError(f"kind must be 'trained' or 'rule-based', not {kind!r}")
        self._nlp = nlp
        self.kind = kind
        self.model = model
        self._class_cache: dict[str, int] = {}

    @classmethod
    def load(cls, model: str | None = "en_core_web_sm") -> LanguagePipeline:
        """Load the trained pipeline ``model`` if it is installed, else the rule-based one.

        Args:
            model: name of an installed spaCy pipeline package, or None to use the rule-based
                pipeline regardless.

        Returns:
            A ready pipeline; ``kind`` says which one was loaded.
        """
        import spacy

        if model and spacy.util.is_package(model):
            nlp = spacy.load(model, exclude=["lemmatizer"])
            logger.info("language pipeline: trained %s", model)
            return cls(_marks_end_words(nlp), "trained", model)
        if model:
            logger.info("spaCy pipeline %s is not installed; using the rule-based pipeline", model)
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        return cls(_marks_end_words(nlp), "rule-based", None)

    def analyse(
        self,
        texts: Sequence[str],
        speakers: Sequence[str] = (),
        known_names: Sequence[str] = (),
        known_entities: Sequence[str] = (),
        *,
        batch_size: int = 256,
        phrases: bool = True,
    ) -> list[TextAnalysis]:
        """Find sentences and mentions in each text.

        Args:
            texts: the texts (chat turns), analysed in batches.
            speakers: full names of the conversation's speakers.
            known_names: other people's names already known in this memory.
            known_entities: names of every entity the memory knows (a one-word name among
                them stays a name at a sentence start).
            batch_size: texts per spaCy batch.
            phrases: also find key phrases (``CONCEPT`` mentions). Ingestion leaves them out:
                no Entity or event boundary comes from them, and on long assistant text they
                cost a sixth of the analysis.

        Returns:
            One :class:`TextAnalysis` per text, in order.
        """
        texts = list(texts)
        names = NameIndex([*speakers, *known_names])
        names.entity_words = frozenset(n.strip().lower() for n in known_entities if n and " " not in n.strip())
        results: list[TextAnalysis] = []
        docs = list(self._nlp.pipe((_tokenizable(text) for text in texts), batch_size=batch_size))
        # a word written with a capital mid-sentence anywhere in the call is used as a name
        names.entity_words = names.entity_words | {
            t.text.lower() for doc in docs for t in doc if t.text[:1].isupper() and t.is_alpha and not t.is_sent_start
            and not (t.i > 0 and _opens_text(doc[t.i - 1].text))}
        for text, doc in zip(texts, docs):
            if self.kind == "trained":
                results.append(self._analyse_trained(text, doc, names, phrases))
            else:
                results.append(self._analyse_rules(text, doc, names, phrases))
        return results

    # ----------------------------------------------------------------- trained pipeline

    def _analyse_trained(self, text: str, doc: Any, names: NameIndex, phrases: bool = True) -> TextAnalysis:
        sentences = _sentence_spans(text, [(s.start_char, s.end_char) for s in doc.sents])
        mentions: list[Mention] = []
        taken: list[tuple[int, int]] = []
        for ent in doc.ents:
            if ent.label_ not in _TRAINED_KEEP:
                continue
            label = ent.label_
            folded = tuple(_fold(t.text) for t in ent if t.text not in ("'s", "’s"))
            if names.owner(folded):
                label = "PERSON"
            end_tok = ent.end
            while end_tok > ent.start and doc[end_tok - 1].text in ("'s", "’s"):
                end_tok -= 1
            span = doc[ent.start:end_tok]
            if not len(span):
                continue
            mentions.append(Mention(span.text, label, span.start_char, span.end_char))
            taken.append((span.start_char, span.end_char))
        for token in doc:
            form = (_fold(token.text),)
            start, end = token.idx, token.idx + len(token)
            if (token.is_alpha and names.owner(form) and not _overlaps(taken, start, end)
                    and (token.text[0].isupper() or (form not in names.short_forms
                                                     and not _is_common_word(token.lower_)))):
                mentions.append(Mention(token.text, "PERSON", start, end))
                taken.append((start, end))
        chunks = doc.noun_chunks if phrases and doc.has_annotation("DEP") else ()
        for chunk in chunks:
            words = [t for t in chunk if t.pos_ not in ("DET", "PRON", "NUM", "PUNCT")
                     and t.lower_ not in lx.PHRASE_STRIP and t.ent_type_ not in ("DATE", "TIME")]
            while words and words[0].pos_ not in ("NOUN", "PROPN", "ADJ"):
                words.pop(0)
            if not words or words[-1].pos_ not in ("NOUN", "PROPN"):
                continue
            start, end = words[0].idx, words[-1].idx + len(words[-1])
            phrase = text[start:end]
            lower = phrase.lower()
            if len(words) == 1 and (lower in lx.GENERIC_NOUNS or len(lower) < 3
                                    or words[0].pos_ == "PROPN"):
                continue
            if any(s == start and e == end for s, e in taken):
                continue
            mentions.append(Mention(phrase, "CONCEPT", start, end))
        mentions.sort(key=lambda m: (m.char_start, -m.char_end, m.label))
        return TextAnalysis(text, sentences, tuple(mentions))

    # ----------------------------------------------------------------- rule-based pipeline

    def _analyse_rules(self, text: str, doc: Any, names: NameIndex, phrases: bool = True) -> TextAnalysis:
        tokens = _tokens_of(text, doc)
        sentence_starts = [t.start for t in tokens if t.sent_start]
        sentences = _sentence_spans(text, zip(sentence_starts, [*sentence_starts[1:], len(text)]))
        n = len(tokens)
        starts = [t.start for t in tokens]
        blocked = [False] * n  # tokens inside a time expression or a quoted title
        mentions: list[Mention] = []

        def token_range(char_start: int, char_end: int) -> range:
            first = bisect.bisect_left(starts, char_start)
            last = bisect.bisect_left(starts, char_end)
            return range(first, last)

        # Times and dates.
        for start, end in find_time_spans(text, holidays=False):  # "Christmas" stays an EVENT
            mentions.append(Mention(text[start:end], "DATE", start, end))
            for i in token_range(start, end):
                blocked[i] = True
        for m in _TIME_RE.finditer(text):
            if not any(blocked[i] for i in token_range(m.start(), m.end())):
                mentions.append(Mention(m.group(0), "TIME", m.start(), m.end()))
                for i in token_range(m.start(), m.end()):
                    blocked[i] = True
        for i, tok in enumerate(tokens):
            if not blocked[i] and tok.lower in _WEEKDAY_MONTH and tok.text[0].isupper():
                mentions.append(Mention(tok.text, "DATE", tok.start, tok.end))
                blocked[i] = True

        # Quoted titles.
        for m in _QUOTED_RE.finditer(text):
            inner = m.group(1).strip().rstrip(".,!?;:")
            words = inner.split()
            if not words or len(words) > 8 or not words[0][0].isupper():
                continue
            long_words = [w for w in words if len(w) > 3]
            if long_words and sum(w[0].isupper() for w in long_words) * 2 < len(long_words):
                continue
            start = m.start(1) + (len(m.group(1)) - len(m.group(1).lstrip()))
            end = start + len(inner)
            rng = token_range(start, end)
            if any(blocked[i] for i in rng):
                continue
            mentions.append(Mention(inner, "WORK_OF_ART", start, end))
            for i in rng:
                blocked[i] = True

        person_tokens = [False] * n
        ne_tokens = [False] * n
        self._find_names(text, tokens, blocked, names, mentions, person_tokens, ne_tokens)
        if phrases:
            self._find_phrases(text, tokens, blocked, person_tokens, ne_tokens, mentions)
        mentions.sort(key=lambda m: (m.char_start, -m.char_end, m.label))
        return TextAnalysis(text, sentences, tuple(mentions))

    def _find_names(
        self,
        text: str,
        tokens: list[_Token],
        blocked: list[bool],
        names: NameIndex,
        mentions: list[Mention],
        person_tokens: list[bool],
        ne_tokens: list[bool],
    ) -> None:
        n = len(tokens)
        i = 0
        while i < n:
            tok = tokens[i]
            if blocked[i]:
                i += 1
                continue
            # Known names, in any case ("hey mel"), longest form first.
            if names and _fold(tok.text) in names.first_tokens:
                matched = 0
                for size in range(min(names.max_len, n - i), 0, -1):
                    window = tokens[i:i + size]
                    if any(blocked[i + k] for k in range(size)):
                        continue
                    form = tuple(_fold(t.text) for t in window)
                    if names.owner(form):
                        if not tok.text[0].isupper() and (
                                form in names.short_forms
                                or (size == 1 and _is_common_word(tok.lower))):
                            continue  # "car", "will": lower-case short forms are words
                        if (size == 1 and i + 1 < n and tokens[i + 1].lower in _OBJECT_PRONOUNS and _is_common_word(tok.lower)
                                and (tok.sent_start or (i > 0 and _opens_text(tokens[i - 1].text)))):
                            continue  # "May I ask", "Will you", "Mark my words": a word opening a sentence
                        matched = size
                        break
                if matched:
                    # A known first name followed by an unknown capitalised surname.
                    end = i + matched
                    while (end < n and not blocked[end] and _is_cap(tokens[end].text)
                           and not _line_break_between(text, tokens[end - 1], tokens[end])
                           and not _is_common_word(tokens[end].lower)
                           and tokens[end].lower not in _TIME_WORDS
                           and gz.place_label(tokens[end].lower) is None
                           and not names.owner((_fold(tokens[end].text),))):
                        end += 1
                    self._emit(text, tokens, i, end, "PERSON", mentions, person_tokens, ne_tokens)
                    i = end
                    continue
            if not _is_cap(tok.text):
                i += 1
                continue
            # A run of capitalised words, joined by "of", "de", "&", hyphens, ...
            j = i + 1
            while j < n and not blocked[j] and not _line_break_between(text, tokens[j - 1], tokens[j]):
                nxt = tokens[j]
                if _is_cap(nxt.text) and _fold(nxt.text) not in names.first_tokens:
                    j += 1
                    continue
                if (nxt.lower in gz.NAME_CONNECTORS and j + 1 < n and not blocked[j + 1]
                        and _is_cap(tokens[j + 1].text) and nxt.lower != "'s"):
                    j += 2
                    continue
                if (nxt.text in ("-", "–") and not tokens[j - 1].space and not nxt.space
                        and j + 1 < n and _is_cap(tokens[j + 1].text)):
                    j += 2
                    continue
                break
            self._label_capitalised(text, tokens, i, j, mentions, person_tokens, ne_tokens, names.entity_words)
            i = j

    def _label_capitalised(
        self,
        text: str,
        tokens: list[_Token],
        i: int,
        j: int,
        mentions: list[Mention],
        person_tokens: list[bool],
        ne_tokens: list[bool],
        named: frozenset[str] = frozenset(),
    ) -> None:
        """Label the capitalised run ``tokens[i:j]`` (or the useful part of it).

        ``named``: lower-case words used as names (capitalised mid-sentence in the same text,
        or names of entities the memory knows), which stay names at a sentence start too
        ("Biscuit is a great name" after "a tabby called Biscuit")."""
        titled = False
        # Leading words that are ordinary words written with a capital (sentence starts,
        # interjections, titles): drop them.
        while i < j:
            lower = tokens[i].lower.rstrip(".")
            if lower in lx.TITLE_WORDS and i + 1 < j:
                titled = True
                i += 1
                continue
            at_start = tokens[i].sent_start or (i > 0 and _opens_text(tokens[i - 1].text))
            if lower in _INTERJECTION_STARTS or lower in lx.FUNCTION_WORDS or lower in _TIME_WORDS:
                i += 1
                continue
            if at_start and _is_common_word(lower) and lower not in named:
                i += 1
                continue
            break
        while j > i and tokens[j - 1].lower in gz.NAME_CONNECTORS:
            j -= 1
        if i >= j:
            return
        words = [t.lower.rstrip("-–'’") for t in tokens[i:j]]
        surface = text[tokens[i].start:tokens[j - 1].end].rstrip("-–'’")
        key = " ".join(words)
        folded = _fold(surface)
        single = j - i == 1
        if single and (words[0] in lx.KINSHIP_WORDS or words[0] in lx.INTERJECTIONS):
            return
        if not single and surface.isupper() and all(_is_common_word(w) for w in words):
            return  # shouting: "JUST DOING IT"
        if single and _is_common_word(words[0]) and words[0] not in gz.FIRST_NAMES:
            return  # "Even", "Love", "Thanks" written with a capital
        prev = tokens[i - 1].lower if i > 0 else ""
        label: str | None = None
        place = gz.place_label(key) or gz.place_label(folded) or gz.place_label("the " + key)
        if titled:
            label = "PERSON"
        elif key in gz.HOLIDAYS or folded in gz.HOLIDAYS:
            label = "EVENT"
        elif key in gz.NORP or folded in gz.NORP:
            label = "NORP"
        elif place and not (key in gz.FIRST_NAMES and prev not in ("in", "to", "from", "at",
                                                                   "visit", "visited", "near")):
            label = place
        elif words[-1].rstrip(".") in gz.ORG_WORDS or words[0] in ("university", "college"):
            label = "ORG"
        elif words[-1].rstrip(".") in gz.PLACE_WORDS:
            label = "LOC"
        elif words[-1] in gz.EVENT_WORDS:
            label = "EVENT"
        elif words[0] in gz.FIRST_NAMES or first_word(folded) in gz.FIRST_NAMES:
            label = "PERSON"
        elif single and words[0] not in named and (tokens[i].sent_start or (i > 0 and _opens_text(tokens[i - 1].text))) \
                and (is_english_word(words[0]) or _is_common_word(words[0]) or words[0] in _CHAT_WORDS
                     or _LAUGHTER_RE.match(words[0]) is not None):
            # A capitalised dictionary word opening a sentence is more often an ordinary word
            # ("Pottery is fun", "Nature's amazing") than a name; a word no dictionary knows
            # ("Zappos offers ...", "**Carcassonne**: ...") is a name.
            return
        else:
            label = "MISC"
        self._emit(text, tokens, i, j, label, mentions, person_tokens, ne_tokens)

    @staticmethod
    def _emit(
        text: str,
        tokens: list[_Token],
        i: int,
        j: int,
        label: str,
        mentions: list[Mention],
        person_tokens: list[bool],
        ne_tokens: list[bool],
    ) -> None:
        start, end = tokens[i].start, tokens[j - 1].end
        while end > start + 1 and text[end - 1] in "-–'’":
            end -= 1
        mentions.append(Mention(text[start:end], label, start, end))
        for k in range(i, j):
            ne_tokens[k] = True
            if label == "PERSON":
                person_tokens[k] = True

    def _class_of(self, lower: str) -> int:
        cls = self._class_cache.get(lower)
        if cls is None:
            cls = _word_class(lower)
            if len(self._class_cache) < 200_000:
                self._class_cache[lower] = cls
        return cls

    def _find_phrases(
        self,
        text: str,
        tokens: list[_Token],
        blocked: list[bool],
        person_tokens: list[bool],
        ne_tokens: list[bool],
        mentions: list[Mention],
    ) -> None:
        n = len(tokens)
        classes = [_BREAK] * n
        for i, tok in enumerate(tokens):
            if blocked[i] or person_tokens[i]:
                continue
            if ne_tokens[i]:
                classes[i] = _PROPN
                continue
            lower = tok.lower
            if _is_joiner(tokens, i):
                classes[i] = _JOIN
                continue
            if lower.isalpha() and (
                    (i > 0 and _is_joiner(tokens, i - 1)) or (i + 1 < n and _is_joiner(tokens, i + 1))):
                classes[i] = _NOUN  # part of a hyphenated compound: "ring-toss", "like-minded"
                continue
            if lower in _HARD_BREAKS:
                continue
            if lower in _ING_NOUNS:
                classes[i] = _NOUN
                continue
            if lower.endswith("in") and (lower + "g") in lx.VERB_FORMS and i + 1 < n \
                    and tokens[i + 1].text in ("'", "’") and not tok.space:
                lower = lower + "g"  # "thinkin'"
            base = lx.verb_base(lower)
            if base is not None and lower not in lx.ADJECTIVES:
                classes[i] = self._verb_form_class(lower, base, tokens, i,
                                                   classes[i - 1] if i else _BREAK)
                continue
            if lower.endswith("ing") and len(lower) >= 6 and lower not in lx.ADJECTIVES \
                    and lower not in _ING_NOUNS:
                classes[i] = _gerund_class(lower, None, tokens, i)
                continue
            classes[i] = self._class_of(lower)
        i = 0
        while i < n:
            if classes[i] == _BREAK or classes[i] == _JOIN:
                i += 1
                continue
            j = i
            while j < n and classes[j] != _BREAK:
                if classes[j] == _JOIN and (j + 1 >= n or classes[j + 1] in (_BREAK, _JOIN)):
                    break
                j += 1
            self._emit_phrase(text, tokens, classes, i, j, mentions)
            i = j

    @staticmethod
    def _verb_form_class(lower: str, base: str, tokens: list[_Token], i: int, prev_class: int) -> int:
        prev = tokens[i - 1].lower if i > 0 else ""
        if lower.endswith("ing"):
            return _gerund_class(lower, base, tokens, i)
        if base in lx.NOUN_VERBS and not lower.endswith("ed") and (
                lower == base or lower.endswith("s")):
            if prev in _VERB_CONTEXT:
                return _BREAK
            nxt = tokens[i + 1].lower if i + 1 < len(tokens) else ""
            # "that painting" is determined; in "anything that stands out" "that" is a pronoun
            determined = prev in _DETERMINERS and not (prev in ("that", "this")
                                                       and lower != base)
            if i > 0 and _is_plural_noun(prev) and lower == base and not determined:
                return _BREAK  # a plural subject and its verb: "my kids love hiking"
            if lower in _VERBAL_S and prev_class in (_NOUN, _PROPN):
                return _BREAK  # a singular subject and its verb: "the support group helps"
            if not determined and (nxt in _OBJECT_START or nxt in _VERB_NEXT
                                   or nxt in lx.ADVERBS or nxt in lx.ADJECTIVES
                                   or (lower != base and nxt in lx.VERB_FORMS
                                       and nxt not in lx.NOUN_VERBS
                                       and nxt not in lx.FUNCTION_WORDS)):
                return _BREAK
            if tokens[i].sent_start and lower == base and nxt not in _AUXILIARIES:
                return _BREAK  # an imperative: "Use social media", "Love that painting"
            return _NOUN
        return _BREAK

    @staticmethod
    def _emit_phrase(
        text: str,
        tokens: list[_Token],
        classes: list[int],
        i: int,
        j: int,
        mentions: list[Mention],
    ) -> None:
        """Turn the content-word run ``tokens[i:j]`` into a key phrase, if it is one."""
        if j - i == 1 and classes[i] == _ADJ and i > 0 and tokens[i - 1].lower in _ARTICLES \
                and tokens[i].lower not in lx.PHRASE_STRIP and len(tokens[i].lower) > 2 \
                and (j >= len(tokens) or _word_class(tokens[j].lower) != _NOUN):
            # An adjective used as a noun: "a fair", "the present".
            mentions.append(Mention(tokens[i].text, "CONCEPT", tokens[i].start, tokens[i].end))
            return
        # Trim: evaluative/quantity words from the front, non-nouns from the back.
        if j - i > 2 and tokens[i].lower == "brand" and tokens[i + 1].lower == "new":
            i += 2  # "brand new fire truck"
        while i < j and (classes[i] == _JOIN or (
                classes[i] != _PROPN
                and (tokens[i].lower in lx.PHRASE_STRIP
                     or (classes[i] == _ADJ and tokens[i].lower not in lx.CLASSIFYING_ADJECTIVES))
                and not (i + 1 < j and classes[i + 1] == _JOIN))):
            i += 1
        while j > i and classes[j - 1] in (_ADJ, _JOIN):
            j -= 1
        if i >= j:
            return
        body = [k for k in range(i, j) if classes[k] != _JOIN]
        if len(body) > 4:
            i = body[-4]
            body = body[-4:]
        if all(classes[k] == _PROPN for k in body):
            return  # a named entity on its own is already a mention
        if classes[body[-1]] == _PROPN:
            return  # ends in a name: "visited Paris" style runs are not key phrases
        head = tokens[body[-1]].lower
        if len(body) == 1:
            if head in lx.GENERIC_NOUNS or len(head) < 3 or classes[body[0]] != _NOUN:
                return
        elif head in lx.GENERIC_NOUNS and all(classes[k] == _ADJ for k in body[:-1]):
            return
        start, end = tokens[i].start, tokens[j - 1].end
        mentions.append(Mention(text[start:end], "CONCEPT", start, end))


def _tokens_of(text: str, doc: Any) -> list[_Token]:
    """Token records read through ``Doc.to_array`` (much cheaper than making Token objects)."""
    from spacy.attrs import IDX, LENGTH, SENT_START, SPACY

    if not len(doc):
        return []
    rows = doc.to_array([IDX, LENGTH, SPACY, SENT_START]).tolist()
    tokens = []
    for k, (start, length, space, sent_start) in enumerate(rows):
        piece = text[start:start + length]
        if piece.isspace():
            continue  # runs of extra spaces are their own tokens: "church  friends"
        tokens.append(_Token(piece, piece.lower(), start, start + length, bool(space),
                             k == 0 or sent_start == 1))
    return tokens


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


def _sentence_spans(text: str, spans: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sentence spans with surrounding whitespace trimmed; empty sentences dropped."""
    out = []
    for start, end in spans:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            out.append((start, end))
    return tuple(out)
