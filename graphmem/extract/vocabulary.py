"""Is a word an ordinary English word? The test that tells "Tips" and "Bench Press" from "Zappos".

A capitalised word in a chat turn is a name, or an ordinary word written with a capital at a
sentence start, in a title-cased heading or in a bold list lead. The rule-based pipeline tells
them apart with a dictionary: :func:`is_english_word` is true for the lower-case words of
Webster's Second International Dictionary (1934, public domain; the ``web2`` list of the
``english-words`` package, 210,742 words of two or more letters, shipped as
``graphmem/data/english_words.txt.gz``) and for a few hundred words coined since (web, app,
smartphone ...), with their plurals, verb forms, comparatives and ``-ly``/``-ness`` forms.
Proper nouns are capitalised in that list and are not part of it, so "Cairo", "Amsterdam" and
"Zappos" are not English words here, while "python", "journey" and "henry" (the unit) are.

The list is read once per process, lazily (about 0.3 s and 20 MB).
"""

from __future__ import annotations

import gzip
import threading
from importlib import resources

from graphmem.extract import lexicon as lx

__all__ = ["MODERN_WORDS", "english_words", "is_english_word"]

MODERN_WORDS = frozenset("""
web website websites online offline internet email emails e-mail app apps smartphone smartphones laptop
laptops tablet podcast podcasts blog blogs blogger vlog video videos selfie selfies login logins username
password passwords emoji emojis hashtag hashtags wifi wi-fi bluetooth startup startups software hardware
download downloads upload uploads streaming playlist playlists smartwatch chatbot chatbots spreadsheet
spreadsheets dataset datasets database databases workflow workflows checklist checklists feedback
gluten veggie veggies vegan vegans workout workouts meme memes influencer influencers website's
brainstorm brainstorming multitasking mindfulness self-care skincare haircare healthcare
touchscreen keyboard keyboards smartphone's e-commerce ecommerce cryptocurrency blockchain
teen teens teenager teenagers okay ok pros cons faq faqs diy
""".split())
"""Common words coined or spread after 1934, written in lower case."""

_LOCK = threading.Lock()
_WORDS: frozenset[str] | None = None


def english_words() -> frozenset[str]:
    """The lower-case English word list (loaded on first use)."""
    global _WORDS
    if _WORDS is None:
        with _LOCK:
            if _WORDS is None:
                data = resources.files("graphmem").joinpath("data", "english_words.txt.gz").read_bytes()
                _WORDS = frozenset(gzip.decompress(data).decode("ascii").split()) | MODERN_WORDS
    return _WORDS


def _stems(word: str) -> list[str]:
    """Candidate base forms of an inflected or derived word (over-generating)."""
    out: list[str] = []
    if word.endswith("'s") or word.endswith("’s"):
        out.append(word[:-2])
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ied", "y"), ("ed", ""), ("ed", "e"),
                         ("ing", ""), ("ing", "e"), ("ier", "y"), ("iest", "y"), ("er", ""), ("er", "e"),
                         ("est", ""), ("est", "e"), ("ily", "y"), ("ly", ""), ("ness", ""), ("iness", "y"),
                         ("ment", ""), ("ments", ""), ("ers", ""), ("ers", "e"), ("ings", ""), ("ings", "e")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: len(word) - len(suffix)] + repl
            out.append(stem)
            if not repl and len(stem) > 3 and stem[-1] == stem[-2]:
                out.append(stem[:-1])  # "shopping" -> "shop"
    return out


def is_english_word(word: str) -> bool:
    """True when ``word`` (any case) is an ordinary English word or a regular form of one.

    Hyphenated words are English when each part is ("self-care", "well-known"). Words of
    one letter and words with digits are not.
    """
    lower = word.lower().strip(".'’")
    if len(lower) < 2 or not lower.replace("-", "").replace("'", "").replace("’", "").isalpha():
        return False
    words = english_words()
    if lower in words or lower in lx.FUNCTION_WORDS or lx.verb_base(lower) is not None:
        return True
    if "-" in lower:
        parts = [p for p in lower.split("-") if p]
        return bool(parts) and all(is_english_word(p) for p in parts)
    return any(stem in words for stem in _stems(lower))
