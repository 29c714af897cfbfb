"""Words of scripts written without spaces between them (Chinese, Japanese; Korean's words carry
their particles): a run of their characters is read as its overlapping character pairs, as
Lucene's CJK analyzer does ("上海学习钢琴" holds "钢琴"). The lexical index and the topic labels
read them so."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import regex

__all__ = ["CJK", "cjk_characters", "cjk_pairs", "fold_name"]

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


def fold_name(name: str) -> str:
    """``name`` as names compare without case: composed (NFC: "Zoë" typed with a combining
    diaeresis is "Zoë"), case folded, and the dot Turkish "İ" folds to dropped ("İlker" is "ilker")."""
    if name.isascii():
        return name.casefold()
    return unicodedata.normalize("NFC", name).casefold().replace("i\u0307", "i")
