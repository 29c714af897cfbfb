"""Text of every script, where it is read by rules written for English.

Scripts written without spaces between words (Chinese, Japanese; Korean's words carry their
particles): a run of their characters is read as its overlapping character pairs, as Lucene's CJK
analyzer does ("上海学习钢琴" holds "钢琴"): the lexical index and the topic labels read them so
(:func:`cjk_pairs`), and event extraction counts the content words of a run (:func:`cjk_words`).
Names compare as :func:`fold_name` folds them (speakers in filters, aliases)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import regex

__all__ = ["CJK", "casefold", "cjk_characters", "cjk_pairs", "cjk_words", "fold_name", "is_mark"]

#: Han, Hiragana, Katakana and Hangul, and U+30FC (the Katakana long-vowel mark, Common script), as
#: a character class body for the ``regex`` module.
CJK = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\u30fc"
_CJK_RUN_RE = regex.compile(rf"[{CJK}]+")


def cjk_pairs(words: Iterable[str], *, singles: bool = False) -> list[str]:
    """``words`` with each run of CJK characters replaced by its character pairs (one character alone
    stays itself), and with ``singles`` by its characters too (a one-character word, "猫", is then
    found inside a run: Lucene's unigram option); other words as they are."""
    out: list[str] = []
    for word in words:
        if len(word) > 1 and _CJK_RUN_RE.fullmatch(word):
            out.extend(word[i:i + 2] for i in range(len(word) - 1))
            if singles:
                out.extend(word)
        else:
            out.append(word)
    return out


_CJK_CHAR_RE = regex.compile(rf"[{CJK}]")


def cjk_characters(text: str) -> int:
    """How many CJK characters ``text`` holds."""
    return 0 if text.isascii() else len(_CJK_CHAR_RE.findall(text))


_HAN_RE = regex.compile(r"\p{Han}")
_KATAKANA_RUN_RE = regex.compile(r"[\p{Katakana}\u30fc]{2,}")
_HANGUL_RE = regex.compile(r"\p{Hangul}")
_OTHER_LETTER_RE = regex.compile(rf"[^\W{CJK}\p{{Hiragana}}]", regex.VERSION1)


def cjk_words(word: str) -> int:
    """About how many content words a run of letters holding CJK characters says: a word for two
    distinct Han characters ("北京", "长城"; "哈哈哈哈" is one character said again), one for a
    Katakana word of two distinct characters or more (a loanword: "カメラ"; "ハハハ" is laughter), one
    for Korean (its words are spaced: "감사합니다" is one) and one for other letters in it ("iPhone").
    Hiragana, the particles and endings around them, says nothing: "ありがとうございます" is none."""
    said = len(set(_HAN_RE.findall(word))) // 2
    said += sum(1 for run in _KATAKANA_RUN_RE.findall(word) if len(set(run) - {"\u30fc"}) > 1)
    said += int(_HANGUL_RE.search(word) is not None) + int(_OTHER_LETTER_RE.search(word) is not None)
    return said


def casefold(text: str) -> str:
    """``text`` case folded, the dot Turkish "İ" folds to dropped ("İstanbul" is "istanbul", not "i"
    and a combining dot)."""
    return text.casefold().replace("i\u0307", "i")


def is_mark(c: str) -> bool:
    """Whether the character ``c`` is a combining mark: part of its word ("Zoë" typed decomposed, a
    Devanagari vowel sign)."""
    return unicodedata.category(c)[0] == "M"


def fold_name(name: str) -> str:
    """``name`` as names compare without case: composed (NFC: "Zoë" typed with a combining
    diaeresis is "Zoë") and :func:`casefold`-ed ("İlker" is "ilker")."""
    if name.isascii():
        return name.casefold()
    return casefold(unicodedata.normalize("NFC", name))
