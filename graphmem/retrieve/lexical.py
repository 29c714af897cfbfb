"""BM25 lexical index over any kind of memory unit (turn, event, episode, session).

A thin, deterministic wrapper over :mod:`bm25s`:

* :class:`Tokenizer` -- lower-casing, a word regex, possessive stripping, a stop-word list
  and an optional stemmer (``"porter"``: the original Porter (1980) algorithm, implemented
  here so results do not depend on optional packages; ``"light"``: plural/verb-suffix
  folding; ``None``).
* :class:`LexicalIndex` -- build from ``(ids, texts)``, score a query against every unit or
  return the top ``k`` ids, save to / load from a directory.

Scores are BM25 in bm25s's Lucene variant by default:
``idf(t) * tf / (tf + k1 * (1 - b + b * dl / avgdl))`` with
``idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))`` (no ``(k1 + 1)`` factor, as in Lucene >= 8). Ties are broken by insertion order so that
a ranking never depends on hash order.
"""

from __future__ import annotations

import json
import logging
import math
import operator
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any, cast

import numpy as np
import regex

from graphmem.scripts import CJK, casefold, cjk_pairs

__all__ = [
    "DEFAULT_STOPWORDS",
    "BM25Params",
    "LexicalIndex",
    "Tokenizer",
    "porter_stem",
]

logger = logging.getLogger(__name__)

# The scikit-learn English stop-word list (Glasgow list, 318 words) minus words that carry
# meaning in conversational memory queries ("first", "last", "next" are temporal cues that
# the router handles; numbers are kept because they are often answers' anchors).
_GLASGOW = """
a about above across after afterwards again against all almost alone along already also
although always am among amongst amoungst an and another any anyhow anyone anything anyway
anywhere are around as at be became because become becomes becoming been before beforehand
behind being below beside besides between beyond both but by can cannot cant co con could
couldnt de do done down due during each eg either else elsewhere enough etc even ever every
everyone everything everywhere except few for former formerly from further get had has hasnt
have he hence her here hereafter hereby herein hereupon hers herself him himself his how
however i ie if in inc indeed into is it its itself latter latterly least less ltd many may
me meanwhile might more moreover most mostly much must my myself namely neither
nevertheless no nobody none noone nor not nothing now nowhere of off often on once only onto
or other others otherwise our ours ourselves out over own per perhaps please rather re same
seem seemed seeming seems several she should since so some somehow someone something sometime
sometimes somewhere still such than that the their them themselves then thence there
thereafter thereby therefore therein thereupon these they this those though through
throughout thru thus to together too toward towards un under until up upon us very via was we
well were what whatever when whence whenever where whereafter whereas whereby wherein
whereupon wherever whether which while whither who whoever whole whom whose why will with
within without would yet you your yours yourself yourselves
"""
# Conversational fillers and auxiliaries that the Glasgow list lacks.
_CONVERSATIONAL = """
did does doing im ive youre youve thats its dont didnt doesnt isnt wasnt arent cant wont
just really like oh yeah yes hey hi wow gonna wanna got kind lot lots thing things s t
id ill youll theyre theyve weve wed shes hes whats lets
"""
DEFAULT_STOPWORDS: frozenset[str] = frozenset((_GLASGOW + _CONVERSATIONAL).split())

# Letters and digits of any script; an inner apostrophe keeps contractions and possessives
# together so that they can be folded below.
_TOKEN_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)?")

#: A word of any script but the CJK ones (:mod:`graphmem.scripts`) keeps its combining marks (a
#: Devanagari vowel sign, an Arabic vowel, Hebrew points): without them "राम" and "रोम" were both the
#: letters र and म. A CJK run is one match, read as its character pairs.
_WORD = rf"[[\p{{L}}\p{{N}}]--[{CJK}]][[\p{{L}}\p{{N}}\p{{M}}]--[{CJK}]]*"
_SCRIPT_TOKEN_RE = regex.compile(rf"[{CJK}]+|{_WORD}(?:'{_WORD})?", regex.VERSION1)


# --------------------------------------------------------------------------- stemmers


# Porter's consonant: a letter other than a, e, i, o, u, and other than a "y" after a consonant.
# Read in one pass from the word's start, never by recursion: a word of a thousand y's
# ("yyyy...", a held key) raised RecursionError in every search.


def _is_cons(word: str, i: int) -> bool:
    return _consonants(word[:i + 1])[i]


def _consonants(stem: str) -> list[bool]:
    """:func:`_is_cons` of every letter of ``stem``, in one pass."""
    flags: list[bool] = []
    for ch in stem:
        flags.append(ch not in "aeiou" and (ch != "y" or not flags or not flags[-1]))
    return flags


def _measure(stem: str) -> int:
    """Porter's m: the number of VC sequences in ``stem``."""
    consonant = _consonants(stem)
    m, i, n = 0, 0, len(stem)
    while i < n and consonant[i]:
        i += 1
    while i < n:
        while i < n and not consonant[i]:
            i += 1
        if i >= n:
            break
        while i < n and consonant[i]:
            i += 1
        m += 1
    return m


def _has_vowel(stem: str) -> bool:
    return not all(_consonants(stem))


def _ends_double_cons(word: str) -> bool:
    return len(word) >= 2 and word[-1] == word[-2] and _is_cons(word, len(word) - 1)


def _cvc(word: str) -> bool:
    if len(word) < 3:
        return False
    return (
        _is_cons(word, len(word) - 3)
        and not _is_cons(word, len(word) - 2)
        and _is_cons(word, len(word) - 1)
        and word[-1] not in "wxy"
    )


def _replace(word: str, rules: Sequence[tuple[str, str]], min_m: int) -> str:
    for suffix, repl in rules:
        if word.endswith(suffix):
            stem = word[: len(word) - len(suffix)]
            return stem + repl if _measure(stem) > min_m else word
    return word


_STEP2 = (
    ("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"),
    ("izer", "ize"), ("abli", "able"), ("alli", "al"), ("entli", "ent"), ("eli", "e"),
    ("ousli", "ous"), ("ization", "ize"), ("ation", "ate"), ("ator", "ate"), ("alism", "al"),
    ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous"), ("aliti", "al"),
    ("iviti", "ive"), ("biliti", "ble"),
)
_STEP3 = (
    ("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"),
    ("ful", ""), ("ness", ""),
)
_STEP4 = (
    "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion",
    "ou", "ism", "ate", "iti", "ous", "ive", "ize",
)


def porter_stem(word: str) -> str:
    """Stem one lower-case word with the original Porter (1980) algorithm.

    Args:
        word: a lower-case token.

    Returns:
        The stem (words of two letters or fewer are returned unchanged).

    Example:
        >>> [porter_stem(w) for w in ("caresses", "ponies", "hopping", "relational")]
        ['caress', 'poni', 'hop', 'relat']
    """
    if len(word) <= 2:
        return word
    # Step 1a
    if word.endswith(("sses", "ies")):
        word = word[:-2]
    elif word.endswith("ss"):
        pass
    elif word.endswith("s"):
        word = word[:-1]
    # Step 1b
    step1b_extra = False
    if word.endswith("eed"):
        if _measure(word[:-3]) > 0:
            word = word[:-1]
    elif word.endswith("ed") and _has_vowel(word[:-2]):
        word, step1b_extra = word[:-2], True
    elif word.endswith("ing") and _has_vowel(word[:-3]):
        word, step1b_extra = word[:-3], True
    if step1b_extra:
        if word.endswith(("at", "bl", "iz")):
            word += "e"
        elif _ends_double_cons(word) and word[-1] not in "lsz":
            word = word[:-1]
        elif _measure(word) == 1 and _cvc(word):
            word += "e"
    # Step 1c
    if word.endswith("y") and _has_vowel(word[:-1]):
        word = word[:-1] + "i"
    # Steps 2-3
    word = _replace(word, _STEP2, 0)
    word = _replace(word, _STEP3, 0)
    # Step 4
    for suffix in _STEP4:
        if word.endswith(suffix):
            stem = word[: len(word) - len(suffix)]
            if _measure(stem) > 1:
                if suffix == "ion":
                    if stem.endswith(("s", "t")):
                        word = stem
                else:
                    word = stem
            break
    # Step 5a
    if word.endswith("e"):
        stem = word[:-1]
        m = _measure(stem)
        if m > 1 or (m == 1 and not _cvc(stem)):
            word = stem
    # Step 5b
    if _measure(word) > 1 and _ends_double_cons(word) and word.endswith("l"):
        word = word[:-1]
    return word


def _light_stem(word: str) -> str:
    """Fold common English inflections (plural -s/-es/-ies, -ing, -ed); conservative."""
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]
    return word


# Stemming is pure and vocabularies repeat: memoise (building a 100k-turn index goes from
# ~18 s to a few seconds).
def _import_bm25s():
    import bm25s

    # bm25s sets its logger to DEBUG at import, so every index build would print through
    # the application's handlers; put it back to inherit the application's level.
    bm25s_logger = logging.getLogger("bm25s")
    if bm25s_logger.level == logging.DEBUG:
        bm25s_logger.setLevel(logging.NOTSET)
    return bm25s


_STEMMERS = {"porter": lru_cache(maxsize=1 << 18)(porter_stem), "light": lru_cache(maxsize=1 << 18)(_light_stem)}


_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))  # soft hyphen, zero widths, BOM


def fold_text(text: str) -> str:
    """``text`` in Unicode's compatibility composed form (NFKC: a combining accent joined to its
    letter, fullwidth letters as ASCII, ligatures split), without the characters that do not
    show (soft hyphens, zero-width spaces and joiners)."""
    return unicodedata.normalize("NFKC", text.translate(_INVISIBLE))


@dataclass(frozen=True)
class Tokenizer:
    """Deterministic word tokenizer for BM25.

    Attributes:
        stopwords: lower-case words dropped before stemming.
        stemmer: ``"porter"``, ``"light"`` or ``None``.
        min_length: tokens shorter than this are dropped (after stop-word removal).
        fold: read text in Unicode's compatibility form first (:func:`fold_text`: "Zürich" typed
            with a combining accent, in fullwidth letters, or with a zero-width space or soft
            hyphen inside is the word "zürich"; without it such a word matched nothing). An index
            saved before it existed loads without it, and is tokenised anew at its next build.
        scripts: words of every script whole (:data:`_SCRIPT_TOKEN_RE`): case folded ("Hauptstraße" is
            "hauptstrasse", "İstanbul" is "istanbul"), combining marks kept in their word, a run of
            Chinese, Japanese or Korean characters as its character pairs and its characters. Without it (an index
            saved before it existed) such text was cut at every mark, and a CJK clause was one word.
    """

    stopwords: frozenset[str] = DEFAULT_STOPWORDS
    stemmer: str | None = "porter"
    min_length: int = 1
    fold: bool = True
    scripts: bool = True

    def __post_init__(self) -> None:
        if self.stemmer is not None and self.stemmer not in _STEMMERS:
            raise ValueError(f"unknown stemmer {self.stemmer!r}; choose from {sorted(_STEMMERS)}")

    def __call__(self, text: str, drop: Iterable[str] = ()) -> list[str]:
        """Tokenize ``text``.

        Args:
            text: any string.
            drop: extra words (any case) to remove, e.g. speaker names that the caller
                handles separately.

        Returns:
            The tokens, in order.
        """
        dropped = {d.lower() for d in drop}
        stem = _STEMMERS.get(self.stemmer) if self.stemmer else None
        out: list[str] = []
        if text.isascii() or not self.scripts:
            if self.fold and not text.isascii():
                text = fold_text(text)
            words = _TOKEN_RE.findall(text.lower().replace("\u2019", "'"))
        else:
            folded = casefold(fold_text(text) if self.fold else text)
            words = cjk_pairs(_SCRIPT_TOKEN_RE.findall(folded.replace("\u2019", "'")), singles=True)
        for raw in words:
            # Possessives fold onto the name ("caroline's" -> "caroline"); other
            # contractions lose the apostrophe ("don't" -> "dont", a stop word).
            tok = raw[:-2] if raw.endswith("'s") else raw.replace("'", "")
            if tok in self.stopwords or tok in dropped or len(tok) < self.min_length:
                continue
            out.append(stem(tok) if stem else tok)
        return out

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return {"stopwords": sorted(self.stopwords), "stemmer": self.stemmer, "min_length": self.min_length, "fold": self.fold,
                "scripts": self.scripts}

    @classmethod
    def from_dict(cls, data: dict) -> Tokenizer:
        """Inverse of :meth:`to_dict` (an index saved before ``fold`` or ``scripts`` existed did without it)."""
        return cls(frozenset(data["stopwords"]), data["stemmer"], int(data["min_length"]), bool(data.get("fold", False)),
                   bool(data.get("scripts", False)))


@dataclass(frozen=True)
class BM25Params:
    """BM25 parameters passed to :class:`bm25s.BM25`.

    Attributes:
        k1: term-frequency saturation.
        b: length normalisation.
        method: bm25s variant (``"lucene"``, ``"robertson"``, ``"atire"``, ``"bm25l"``, ``"bm25+"``).
    """

    k1: float = 1.2
    b: float = 0.75
    method: str = "lucene"


_WHOLE_CORPUS_METHODS = ("lucene",)


#: Most pairs an updated BM25 index keeps apart from the pairs it was counted with (see
#: ``_Postings._layered``) before it is made flat again.
LAYERED_PAIRS = 262_144


def _keep_layered(extra_pairs: int, base_pairs: int, gone: int, base_docs: int) -> bool:
    """Whether an update stays a layer (``_Postings._layered``): its pairs apart at most
    :data:`LAYERED_PAIRS` or an eighth of the earlier ones, and at most an eighth of the
    earlier documents gone (each query reads past those)."""
    return extra_pairs <= max(LAYERED_PAIRS, base_pairs // 8) and gone <= base_docs // 8


def _lucene_idf(df: np.ndarray, n_docs: int, dtype: Any) -> np.ndarray:
    """Lucene's idf of every term from its document frequency, each value computed as bm25s
    computes it (a Python float, then ``dtype``); once per distinct frequency."""
    distinct, inverse = np.unique(df, return_inverse=True)
    idf = [math.log(1 + (n_docs - f + 0.5) / (f + 0.5)) for f in distinct.tolist()]
    return np.asarray(idf, dtype=dtype)[inverse.reshape(-1)] if len(df) else np.zeros(0, dtype=dtype)


@dataclass
class _Postings:
    """What a Lucene BM25 matrix is computed from, term by term (its columns):
    each (document, term) pair's term frequency, each document's length, the vocabulary's
    numbering, and the ids and texts of the documents. Kept with a built index, so that the
    build after a write updates it (the documents added, changed or removed) instead of
    counting every token of the corpus again."""

    ids: list[str]
    texts: Sequence[str]
    vocab: dict[str, int]
    lengths: np.ndarray  # int64, per document
    indptr: np.ndarray  # int64, len(vocab) + 1: the pairs of term t are [indptr[t], indptr[t + 1])
    # (in a run, documents in ascending order as counted, those an update added at its end: a
    # score depends on no order within a run, nor does a query's sum, taken term by term)
    doc: np.ndarray  # int32, per pair (the matrix's own column indices)
    tf: np.ndarray  # int32, per pair
    # Layered (after an update): ``indptr``, ``doc`` and ``tf`` are an earlier corpus's pairs, in
    # its document numbers; ``to_now`` gives each of those documents its number now (-1: gone or
    # changed), and ``extra`` = (indptr over the vocabulary now, document numbers now, tf) holds
    # the pairs of the documents counted since. None, None: the pairs are this corpus's own.
    to_now: np.ndarray | None = None
    extra: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def pairs(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        """The documents (numbers now) and term frequencies of ``term``'s pairs."""
        lo, hi = (int(self.indptr[term]), int(self.indptr[term + 1])) if term + 1 < len(self.indptr) else (0, 0)
        doc, tf = self.doc[lo:hi], self.tf[lo:hi]
        if self.to_now is None:
            return doc, tf
        assert self.extra is not None  # set with to_now (_layered)
        now = self.to_now[doc]
        kept = now >= 0
        bounds, extra_doc, extra_tf = self.extra
        lo, hi = int(bounds[term]), int(bounds[term + 1])  # the bounds span the vocabulary now
        return np.concatenate([now[kept], extra_doc[lo:hi]]), np.concatenate([tf[kept], extra_tf[lo:hi]])

    def flat(self) -> _Postings:
        """These postings with every pair in this corpus's numbering, term by term (a layered
        one's earlier pairs kept first in each run, then the ones counted since)."""
        if self.to_now is None:
            return self
        assert self.extra is not None  # set with to_now (_layered)
        term = _run_terms(self.indptr)
        now = self.to_now[self.doc]
        kept = now >= 0
        bounds, extra_doc, extra_tf = self.extra
        extra_term = _run_terms(bounds)
        terms = np.concatenate([term[kept], extra_term])
        order = np.argsort(terms, kind="stable")
        return type(self)._of(self.ids, self.texts, self.vocab, self.lengths, terms[order],
                              np.concatenate([now[kept], extra_doc])[order], np.concatenate([self.tf[kept], extra_tf])[order])

    @classmethod
    def count(cls, ids: list[str], texts: Sequence[str], corpus: list[list[str]]) -> _Postings:
        """Count the whole corpus: one ``np.unique`` over (term, document) pairs."""
        n_docs = len(corpus)
        lengths = np.fromiter(map(len, corpus), dtype=np.int64, count=n_docs)
        tokens = list(chain.from_iterable(corpus))
        vocab = {token: number for number, token in enumerate(dict.fromkeys(tokens))}  # in order of first use
        terms = np.fromiter(map(vocab.__getitem__, tokens), dtype=np.int64, count=len(tokens))
        vocab.setdefault("", len(vocab))
        docs = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        pairs, tf = np.unique(terms * n_docs + docs, return_counts=True)  # sorted by term, then document
        return cls._of(ids, texts, vocab, lengths, pairs // n_docs, pairs % n_docs, tf)

    @classmethod
    def _of(cls, ids: list[str], texts: Sequence[str], vocab: dict[str, int], lengths: np.ndarray, term: np.ndarray,
            doc: np.ndarray, tf: np.ndarray) -> _Postings:
        indptr = _run_bounds(term, len(vocab))
        # kept at half the width (a 100,000-turn memory's turn and episode indexes hold about 2.5
        # million pairs); the document numbers are the score matrix's own column indices
        return cls(ids, texts, vocab, lengths, indptr, doc.astype(np.int32, copy=False), tf.astype(np.int32, copy=False))

    def updated(self, ids: list[str], texts: Sequence[str], corpus: Sequence[list[str]],
                carried: np.ndarray | None = None) -> _Postings:
        """These postings for a new corpus (``ids``, their ``texts`` and tokens), counting only
        the documents that are new or whose text changed (the kept ones may be in any order).
        ``carried``: each old document's new number when the caller knows it (``-1``: gone or
        changed), instead of finding them by id and comparing their texts."""
        if carried is not None:
            was = np.flatnonzero(carried >= 0)
            found = carried[was]
        else:
            # each new document's old number (NaN: new), through C-level maps (a loop over the
            # documents in Python took 0.1 s at 100,000 turns, at every search after an add)
            old = np.array(list(map(self._numbers().get, ids)), dtype=np.float64).reshape(-1)
            found = np.flatnonzero(~np.isnan(old))
            was = old[found].astype(np.int64)
            if len(found):
                pick_old, pick_new = itemgetter(*was.tolist()), itemgetter(*found.tolist())
                before, after = ((pick_old(self.texts), pick_new(texts)) if len(found) > 1
                                 else ((pick_old(self.texts),), (pick_new(texts),)))
                same = np.fromiter(map(operator.eq, before, after), dtype=bool, count=len(found))  # `is` first, as == does
                found, was = found[same], was[same]
        moved = np.full(len(self.ids), -1, dtype=np.int32)  # old document -> its new number (-1: gone or changed)
        moved[was] = found
        kept_new = np.zeros(len(ids), dtype=bool)
        kept_new[found] = True
        fresh = np.flatnonzero(~kept_new).tolist()
        layered = self._layered(ids, texts, corpus, moved, fresh)
        if layered is not None:
            return layered
        return self.flat()._renumbered(ids, texts, corpus, moved, fresh)

    def _layered(self, ids: list[str], texts: Sequence[str], corpus: Sequence[list[str]], moved: np.ndarray,
                 fresh: list[int]) -> _Postings | None:
        """The update as a layer over the earlier pairs: each earlier document's number now
        (one gather per document, not per pair: renumbering 2.5 million pairs was most of the
        update at 100,000 turns), and the pairs of the documents counted since that still
        count, with the new ones'. ``None`` once those pairs pass :data:`LAYERED_PAIRS` (or an
        eighth of the earlier ones), or an eighth of the earlier documents are gone: the
        update is then made flat."""
        if self.to_now is None:
            to_now = moved.astype(np.int64)
            extra_term, extra_doc, extra_tf = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32))
        else:
            assert self.extra is not None  # set with to_now
            to_now = _followed_positions(self.to_now, moved)
            bounds, doc, tf = self.extra
            now = moved[doc]
            kept = now >= 0
            extra_term = _run_terms(bounds)[kept]
            extra_doc, extra_tf = now[kept].astype(np.int32), tf[kept]
        vocab, lengths, new_term, new_doc, counts = self._counted(len(ids), corpus, moved, fresh)
        if fresh:
            extra_term = np.concatenate([extra_term, new_term])
            extra_doc = np.concatenate([extra_doc, new_doc.astype(np.int32)])
            extra_tf = np.concatenate([extra_tf, counts.astype(np.int32)])
        if not _keep_layered(len(extra_doc), len(self.doc), int((to_now < 0).sum()), len(to_now)):
            return None
        order = np.argsort(extra_term, kind="stable")
        return type(self)(ids, texts, vocab, lengths, self.indptr, self.doc, self.tf, to_now,
                          (_run_bounds(extra_term, len(vocab)), extra_doc[order], extra_tf[order]))

    def _counted(self, n_docs: int, corpus: Sequence[list[str]], moved: np.ndarray,
                 fresh: list[int]) -> tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """What an update counts: the vocabulary with the new documents' words, every
        document's length, and the new documents' pairs (term, document, tf), sorted by term,
        then document."""
        vocab = dict(self.vocab)  # the old index may still be answering a query with its own
        lengths = np.zeros(n_docs, dtype=np.int64)
        lengths[moved[moved >= 0]] = self.lengths[moved >= 0]
        if not fresh:
            empty = np.zeros(0, dtype=np.int64)
            return vocab, lengths, empty, empty, empty
        new_docs = [corpus[j] or [""] for j in fresh]  # as bm25s needs them: a token per document
        new_lengths = np.fromiter(map(len, new_docs), dtype=np.int64, count=len(fresh))
        lengths[fresh] = new_lengths
        tokens = chain.from_iterable(new_docs)
        terms = np.fromiter((vocab.setdefault(t, len(vocab)) for t in tokens), dtype=np.int64, count=int(new_lengths.sum()))
        docs = np.repeat(np.asarray(fresh, dtype=np.int64), new_lengths)
        pairs, counts = np.unique(terms * n_docs + docs, return_counts=True)
        return vocab, lengths, pairs // n_docs, pairs % n_docs, counts

    def _renumbered(self, ids: list[str], texts: Sequence[str], corpus: Sequence[list[str]], moved: np.ndarray,
                    fresh: list[int]) -> _Postings:
        """The update made flat (see :meth:`updated`): ``moved`` gives each of these documents'
        new number (-1: gone or changed), ``fresh`` the new documents' numbers."""
        n_docs = len(ids)
        # the kept pairs renumbered in place, in their terms' runs: no per-pair term array is made
        # (it and the sort of every pair were most of the 35 ms an index took to update at
        # 100,000 turns)
        doc, tf, indptr = moved[self.doc], self.tf, self.indptr
        kept = doc >= 0
        if not kept.all():
            gone_terms = np.searchsorted(indptr, np.flatnonzero(~kept), side="right") - 1
            indptr = indptr - np.concatenate([[0], np.cumsum(np.bincount(gone_terms, minlength=len(indptr) - 1))])
            doc, tf = doc[kept], tf[kept]
        vocab, lengths, new_term, new_doc, counts = self._counted(n_docs, corpus, moved, fresh)
        if fresh:
            if len(vocab) > len(indptr) - 1:  # words no kept document has: empty runs at the end
                indptr = np.concatenate([indptr, np.full(len(vocab) - len(indptr) + 1, indptr[-1], dtype=indptr.dtype)])
            # each new pair at the end of its term's run (no pair is in both: the documents differ)
            at = indptr[new_term + 1]
            doc, tf = np.insert(doc, at, new_doc.astype(np.int32)), np.insert(tf, at, counts.astype(np.int32))
            indptr = indptr + np.concatenate([[0], np.cumsum(np.bincount(new_term, minlength=len(indptr) - 1))])
        return type(self)(ids, texts, vocab, lengths, indptr, doc, tf)

    def pruned(self) -> _Postings:
        """These postings (flat) without the words no document has any more (a forgotten or
        corrected-away text's, whose runs an update emptied), the others numbered again in
        their order; the padding word ``""`` stays. No score depends on a word without
        documents: the pairs, their order and every document's length stay as they are, and so
        every query's scores, bit for bit. Itself when no word is without documents."""
        flat = self.flat()
        if len(flat.indptr) != len(flat.vocab) + 1:
            return flat
        empty = np.diff(flat.indptr) == 0
        blank = flat.vocab.get("")
        if blank is not None:
            empty[blank] = False
        if not empty.any():
            return flat
        words = [""] * len(flat.vocab)
        for word, number in flat.vocab.items():
            words[number] = word
        kept = np.flatnonzero(~empty)
        vocab = {words[term]: number for number, term in enumerate(kept.tolist())}
        indptr = np.concatenate([flat.indptr[:1], flat.indptr[kept + 1]])
        return type(self)(flat.ids, flat.texts, vocab, flat.lengths, indptr, flat.doc, flat.tf)

    def _numbers(self) -> dict[str, int]:
        """Document id -> its number here (made once: the postings do not change)."""
        numbers = self.__dict__.get("_numbers_of")
        if numbers is None:
            numbers = self.__dict__["_numbers_of"] = dict(zip(self.ids, range(len(self.ids))))
        return numbers

    def set_on(self, bm25: Any) -> None:
        """Set on ``bm25`` what ``bm25.index(corpus)`` sets for this corpus (its score matrix,
        vocabulary and token ids), the same values computed over the whole corpus at once.

        bm25s loops over the documents in Python (a ``Counter`` and a few small arrays per
        document): 1.2 s for the 100k turns of the ``bench add`` memory (0.25 s here), which
        the first search after every write waited for. Here each score comes from the same
        operations in the same dtypes, element by element: each document's score for each
        of its terms is bit for bit bm25s's (``tests/unit/test_retrieve_lexical.py`` compares
        them, after updates too), and so is every query's score. Only the vocabulary's
        numbering differs (bm25s numbers it in set order), which no score depends on; after
        an update it may hold words no document has any more (no score either), which
        :meth:`pruned` takes out before an index is saved."""
        flat = self.flat()
        n_docs = len(flat.lengths)
        term = _run_terms(flat.indptr)
        idf_array = _lucene_idf(np.diff(flat.indptr), n_docs, bm25.dtype)
        k1, b = bm25.k1, bm25.b
        avg_doc_len = flat.lengths.mean()  # as bm25s takes it: the mean of an integer array
        denominator = k1 * ((1 - b) + b * flat.lengths / avg_doc_len)  # per document, in float64 as bm25s's scalars
        tf_array = flat.tf.astype(bm25.dtype)
        scores = (idf_array[term] * (tf_array / (denominator[flat.doc] + tf_array))).astype(bm25.dtype)
        bm25.scores = {"data": scores, "indices": flat.doc.astype(bm25.int_dtype, copy=False), "indptr": flat.indptr,
                       "num_docs": n_docs}
        bm25.nonoccurrence_array = None
        bm25.vocab_dict = flat.vocab
        bm25.unique_token_ids_set = set(flat.vocab.values())


class _LuceneScorer:
    """A query's bm25s Lucene scores computed from the postings when it is asked, instead of
    every (document, term) score being computed at each build (:meth:`_Postings.set_on`):
    an add changes the corpus's size and mean length, and so every score, and computing them
    all took 10 ms an index at every search after an add at 100,000 turns. Each score of a
    query's terms is computed by the same operations in the same dtypes as there, and summed
    into the documents' scores in the same order as bm25s's ``get_scores``, so every query's
    scores are the same bit for bit (``tests/unit/test_retrieve_lexical.py``)."""

    def __init__(self, postings: _Postings, bm25: Any) -> None:
        self.postings, self.bm25 = postings, bm25
        self._denominator: np.ndarray | None = None

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        postings, bm25 = self.postings, self.bm25
        n_docs = len(postings.lengths)
        if self._denominator is None:
            k1, b = bm25.k1, bm25.b
            self._denominator = k1 * ((1 - b) + b * postings.lengths / postings.lengths.mean())
        pairs = [postings.pairs(postings.vocab[t]) for t in tokens]
        idf = _lucene_idf(np.asarray([len(doc) for doc, _ in pairs], dtype=np.int64), n_docs, bm25.dtype)
        data, indices = [], []
        for (doc, tf), term_idf in zip(pairs, idf):
            tf = tf.astype(bm25.dtype)
            data.append((term_idf * (tf / (self._denominator[doc] + tf))).astype(bm25.dtype))
            indices.append(doc)
        scores = np.zeros(n_docs, dtype=bm25.dtype)
        if data:
            np.add.at(scores, np.concatenate(indices), np.concatenate(data))
        return scores


def _tokeniser(tokenizer: Tokenizer) -> Callable[[str], list[str]]:
    """``tokenizer`` for one build: each distinct text tokenised once, its words interned (a
    word is stored once)."""
    done: dict[str, list[str]] = {}

    def tokens(text: str) -> list[str]:
        found = done.get(text)
        if found is None:
            found = done[text] = [sys.intern(t) for t in tokenizer(text)]
        return found

    return tokens


def _decoded_words(utf8: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The words :meth:`LexicalIndex.save` stored as UTF-8 bytes and their ends."""
    blob = utf8.tobytes()
    starts = [0, *ends.tolist()[:-1]]
    words = np.empty(len(ends), dtype=object)
    words[:] = [blob[a:b].decode("utf-8", "surrogatepass") for a, b in zip(starts, ends.tolist())]
    return words


def _followed_positions(then: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """Each position ``then`` holds (``-1``: none) carried one patch on: its entry in ``moved``
    (each earlier position's position now, ``-1``: gone). Only held positions are looked up: a
    patch that left none of a kind has an empty ``moved`` (indexing it at all raised IndexError)."""
    then = np.asarray(then, dtype=np.int64)
    now = np.full(len(then), -1, dtype=np.int64)
    held = then >= 0
    now[held] = np.asarray(moved, dtype=np.int64)[then[held]]
    return now


def _run_terms(indptr: np.ndarray) -> np.ndarray:
    """The term of each pair of postings whose term runs ``indptr`` bounds."""
    return np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))


def _run_bounds(term: np.ndarray, n_terms: int) -> np.ndarray:
    """The bounds of each term's run over pairs sorted by ``term`` (``indptr``)."""
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(np.bincount(term, minlength=n_terms), out=indptr[1:])
    return indptr


def _carried_list(old: Sequence[Any], carried: np.ndarray, size: int, fill: Callable[[int], Any]) -> list[Any]:
    """A list of ``size`` items: ``old[i]`` at ``carried[i]`` (kept ones in order; ``-1``: not
    kept), ``fill(j)`` at every other position ``j``; runs of kept items copied as slices."""
    kept = np.flatnonzero(carried >= 0)
    new = carried[kept]
    out: list[Any] = []
    if len(kept):
        breaks = np.flatnonzero((np.diff(kept) != 1) | (np.diff(new) != 1)) + 1
        starts, ends = np.concatenate([[0], breaks]), np.concatenate([breaks, [len(kept)]])
        for start, end in zip(starts.tolist(), ends.tolist()):
            out.extend(fill(j) for j in range(len(out), int(new[start])))
            first = int(kept[start])
            out.extend(old[first:first + end - start])
    out.extend(fill(j) for j in range(len(out), size))
    return out


@dataclass
class LexicalIndex:
    """A BM25 index over units of one kind.

    Build with :meth:`build`; query with :meth:`scores` (every unit) or :meth:`query` (top k).

    Attributes:
        ids: unit ids, in index order.
        tokenizer: the tokenizer used for documents and queries.
        params: BM25 parameters.
    """

    ids: list[str]
    tokenizer: Tokenizer = field(default_factory=Tokenizer)
    params: BM25Params = field(default_factory=BM25Params)
    _bm25: object = field(default=None, repr=False)
    # text -> its tokens, for the next build over mostly the same texts (None when loaded from disk
    # until :meth:`remember_texts`)
    _tokens: dict[str, list[str]] | None = field(default=None, repr=False, compare=False)
    # each document's tokens in ids order (built here), or as saved: (vocabulary, indptr, token numbers)
    _docs: list[list[str]] | None = field(default=None, repr=False, compare=False)
    _saved_docs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)
    # the Lucene matrix's counts, for the next build after a write to update (None when loaded from disk)
    _postings: _Postings | None = field(default=None, repr=False, compare=False)
    # scores queries from _postings (built here); _bm25's score matrix is then filled only to be saved
    _scorer: _LuceneScorer | None = field(default=None, repr=False, compare=False)

    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        texts: Sequence[str],
        tokenizer: Tokenizer | None = None,
        params: BM25Params | None = None,
        *,
        reuse: LexicalIndex | None = None,
        carried: np.ndarray | None = None,
    ) -> LexicalIndex:
        """Index ``texts`` under ``ids``.

        Args:
            ids: unique unit ids.
            texts: one text per id.
            tokenizer: defaults to :class:`Tokenizer` ().
            params: defaults to :class:`BM25Params` ().
            reuse: an index built earlier with the same tokenizer (the one a write made stale):
                texts it held are not tokenised again (the tokens of a text depend on nothing
                else), so rebuilding after an add tokenises only what is new or changed.
            carried: with ``reuse``, each of its units' position in ``ids`` when the caller
                knows it (``-1``: gone, or its text changed; the ones kept in order, their texts
                the same): their tokens and counts are taken by position, not found by text
                and id (a projection patched after an add knows them). The caller vouches
                that ``ids`` are unique then (a patched projection's are).

        Returns:
            The index.

        Raises:
            ValueError: when lengths differ or ids repeat.
        """
        bm25s = _import_bm25s()

        if len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids but {len(texts)} texts")
        tokenizer = tokenizer or Tokenizer()
        params = params or BM25Params()
        same_kind = reuse is not None and reuse.tokenizer == tokenizer and reuse.params == params
        by_position = (carried is not None and same_kind and reuse is not None and reuse._docs is not None and reuse._postings is not None
                       and len(carried) == len(reuse.ids) and params.method in _WHOLE_CORPUS_METHODS and bool(ids))
        # ids placed by ``carried`` are a patched projection's, which refuses a unit twice: not
        # hashed again (a set of 100,000 ids took 11 ms of every search after an add)
        if not by_position and len(set(ids)) != len(ids):
            raise ValueError("ids must be unique")
        index = cls(list(ids), tokenizer, params)
        tokenise = _tokeniser(tokenizer)
        postings: _Postings | None = None
        if by_position:
            assert carried is not None and reuse is not None and reuse._docs is not None and reuse._postings is not None
            # the kept units' tokens and counts by position; their tokens by text are made from
            # _docs when a later build needs them (remember_texts)
            corpus = _carried_list(reuse._docs, carried, len(index.ids), lambda j: tokenise(texts[j]))
            index._docs = corpus
            postings = reuse._postings.updated(index.ids, list(texts), corpus, carried=carried)
        else:
            known = reuse._tokens if reuse is not None and reuse._tokens and reuse.tokenizer == tokenizer else {}
            # the tokens of the texts known, through a C-level map (a loop in Python took 0.09 s at
            # 100,000 turns); the others tokenised, each distinct text once
            looked_up: list[list[str] | None] = list(map(known.get, texts)) if known else [None] * len(texts)
            for j in [j for j, tokens in enumerate(looked_up) if tokens is None]:
                looked_up[j] = tokenise(texts[j])
            corpus = cast("list[list[str]]", looked_up)  # every entry filled above
            # kept for the next build (a text that repeats has one list of tokens)
            index._tokens, index._docs = dict(zip(texts, corpus)), corpus
        if ids:
            bm25 = bm25s.BM25(k1=params.k1, b=params.b, method=params.method)
            # bm25s needs at least one token per document to keep positions aligned (a new list:
            # the documents' own tokens stay in _docs)
            if params.method in _WHOLE_CORPUS_METHODS:
                if postings is None:
                    padded = [doc or [""] for doc in corpus]
                    before = reuse._postings if same_kind and reuse is not None else None
                    postings = (before.updated(index.ids, list(texts), padded) if before is not None
                                else _Postings.count(index.ids, list(texts), padded))
                index._postings = postings
                index._scorer = _LuceneScorer(postings, bm25)
            else:
                bm25.index([doc or [""] for doc in corpus], show_progress=False)
            index._bm25 = bm25
        logger.debug("built BM25 index over %d units%s", len(ids), " (the kept ones by position)" if by_position else "")
        return index

    def __len__(self) -> int:
        return len(self.ids)

    def tokens_at(self, position: int) -> list[str] | None:
        """The tokens of the unit at ``position`` of :attr:`ids`, when this index holds them in
        order (built here, not loaded from disk)."""
        if self._docs is None or len(self._docs) != len(self.ids) or not 0 <= position < len(self.ids):
            return None
        return self._docs[position]

    def remember_texts(self, texts: Sequence[str]) -> None:
        """Give an index loaded from disk the texts it was built from (one per id, in order),
        so that a build reusing it (:meth:`build`'s ``reuse``) takes their saved tokens instead
        of tokenising every text again (1.2 s at 100,000 turns). Does nothing for an index that
        has its tokens, or was saved without them."""
        if self._tokens is not None or len(texts) != len(self.ids):
            return
        if self._docs is not None:  # built with its tokens carried over: they are in ids order
            self._tokens = dict(zip(texts, self._docs))
            return
        if self._saved_docs is None:
            return
        vocabulary, indptr, numbers = self._saved_docs
        words = [sys.intern(str(w)) for w in vocabulary.tolist()]
        flat = [words[j] for j in numbers.tolist()]
        bounds = indptr.tolist()
        self._tokens = {text: flat[bounds[i]:bounds[i + 1]] for i, text in enumerate(texts)}
        self._saved_docs = None

    def scores(self, query: str, drop: Iterable[str] = ()) -> np.ndarray:
        """BM25 score of ``query`` against every unit, aligned with :attr:`ids`.

        Args:
            query: the query text.
            drop: words removed from the query before scoring (see :meth:`Tokenizer.__call__`).

        Returns:
            A float array of length ``len(self)`` (zeros when no query term is indexed).
        """
        if not self.ids:
            return np.zeros(0, dtype=np.float64)
        tokens = self.tokenizer(query, drop=drop)
        vocab = self._scorer.postings.vocab if self._scorer is not None else self._bm25.vocab_dict
        tokens = [t for t in tokens if t in vocab]
        if not tokens:
            return np.zeros(len(self.ids), dtype=np.float64)
        if self._scorer is not None:
            return np.asarray(self._scorer.scores(tokens), dtype=np.float64)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float64)

    def absent_terms(self) -> list[str]:
        """The words of this index's vocabulary that no indexed document has (the padding word
        ``""`` aside): none in an index built or saved by this version; a saved one from before
        kept every word forgotten or corrected away since it was first counted."""
        if self._scorer is not None:
            postings = self._scorer.postings.flat()
            vocab, indptr = postings.vocab, postings.indptr
        elif getattr(self._bm25, "scores", None) is not None:
            bm25: Any = self._bm25  # a bm25s.BM25 (loaded, or built by bm25s itself)
            vocab, indptr = bm25.vocab_dict, np.asarray(bm25.scores["indptr"])
        else:
            return []
        df = np.diff(indptr)
        return sorted(word for word, number in vocab.items() if word and (number >= len(df) or df[number] == 0))

    def bm25(self) -> Any:
        """The :class:`bm25s.BM25` of this index with its score matrix (filled from the postings
        at the first call after a build; what :meth:`save` writes)."""
        if self._scorer is not None and getattr(self._bm25, "scores", None) is None:
            # without the words no document has any more: a saved vocabulary must not keep a
            # forgotten word (a long-running process's index is updated, never counted afresh)
            flat = self._scorer.postings.pruned()
            flat.set_on(self._bm25)
            # queries read the flat runs from now on (a layer's earlier pairs cost each query term a
            # gather: 0.3 ms more per query at 100,000 turns); the same postings, so the same scores
            self._postings = self._scorer.postings = flat
        return self._bm25

    def query(self, query: str, k: int = 10, drop: Iterable[str] = ()) -> tuple[list[str], np.ndarray]:
        """Top ``k`` units for ``query``, best first; units scoring 0 are left out.

        Args:
            query: the query text.
            k: how many to return.
            drop: words removed from the query before scoring.

        Returns:
            ``(ids, scores)``; ties are broken by index order.
        """
        s = self.scores(query, drop=drop)
        order = np.lexsort((np.arange(len(s)), -s))[:k]
        order = order[s[order] > 0]
        return [self.ids[i] for i in order], s[order]

    def save(self, directory: str | Path) -> None:
        """Write the index to ``directory`` (created if missing).

        Args:
            directory: target folder; existing files of a previous index are overwritten.
        """
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        meta = {"ids": self.ids, "tokenizer": self.tokenizer.to_dict(), "params": asdict(self.params)}
        (path / "graphmem_lexical.json").write_text(json.dumps(meta), encoding="utf-8")
        if self._bm25 is not None:
            self.bm25().save(str(path / "bm25s"), show_progress=False)
        tokens_file = path / "graphmem_tokens.npz"
        if self._docs is not None and len(self._docs) == len(self.ids):
            number: dict[str, int] = {}
            numbers = np.fromiter((number.setdefault(t, len(number)) for doc in self._docs for t in doc), dtype=np.int32)
            indptr = np.zeros(len(self._docs) + 1, dtype=np.int64)
            np.cumsum([len(doc) for doc in self._docs], out=indptr[1:])
            # the words as UTF-8 bytes with their ends, not a fixed-width string array: that holds
            # every word at the longest one's width (one 300,000-letter hex dump in a turn made
            # each file 212 MB beside a 177-word vocabulary; at 127,859 words, 476 GiB to allocate)
            encoded = [word.encode("utf-8", "surrogatepass") for word in number]
            ends = np.zeros(len(encoded), dtype=np.int64)
            np.cumsum([len(word) for word in encoded], out=ends)
            np.savez(path / "graphmem_tokens.tmp.npz", vocabulary_utf8=np.frombuffer(b"".join(encoded), dtype=np.uint8),
                     vocabulary_ends=ends, indptr=indptr, numbers=numbers)
            (path / "graphmem_tokens.tmp.npz").replace(tokens_file)
        else:
            tokens_file.unlink(missing_ok=True)

    @classmethod
    def load(cls, directory: str | Path) -> LexicalIndex:
        """Read an index written by :meth:`save`.

        Args:
            directory: the folder passed to :meth:`save`.

        Returns:
            The index.

        Raises:
            FileNotFoundError: when the folder holds no index.
        """
        bm25s = _import_bm25s()

        path = Path(directory)
        meta_file = path / "graphmem_lexical.json"
        if not meta_file.exists():
            raise FileNotFoundError(f"no lexical index in {path}")
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        index = cls(meta["ids"], Tokenizer.from_dict(meta["tokenizer"]), BM25Params(**meta["params"]))
        if index.ids:
            index._bm25 = bm25s.BM25.load(str(path / "bm25s"), show_progress=False, verbosity=0)
        try:
            with np.load(path / "graphmem_tokens.npz", allow_pickle=False) as saved:
                if "vocabulary_utf8" in saved:
                    docs = (_decoded_words(saved["vocabulary_utf8"], saved["vocabulary_ends"]), saved["indptr"],
                            saved["numbers"])
                else:  # saved before the words were stored as UTF-8
                    docs = (saved["vocabulary"], saved["indptr"], saved["numbers"])
            vocabulary, indptr, numbers = docs
            if (len(indptr) == len(index.ids) + 1 and int(indptr[-1]) == len(numbers)
                    and (not len(numbers) or 0 <= int(numbers.min()) <= int(numbers.max()) < len(vocabulary))):
                index._saved_docs = docs
        except (OSError, ValueError, KeyError):  # no tokens saved (or unreadable): a rebuild tokenises again
            pass
        return index
