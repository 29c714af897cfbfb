"""Where the code and the tables of a markdown-ish chat turn are.

Assistant answers carry fenced code blocks, inline code and markdown tables. Their text is
stored and embedded with the turn, but it is neither an event (a proposition someone said)
nor a place where names are looked for.
"""

from __future__ import annotations

import re

__all__ = ["code_spans", "inside", "table_spans"]

_FENCE_RE = re.compile(r"(?:^|\n)[ \t]*(```|~~~)[^\n]*\n.*?(?:\n[ \t]*\1[^\n]*(?=\n|$)|\Z)", re.DOTALL)
_INLINE_CODE_RE = re.compile(r"`[^`\n]+`")
_TABLE_LINE_RE = re.compile(r"(?m)^[ \t]*\|.*\|[ \t]*$")


def code_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of fenced code blocks (an unclosed fence runs to the end) and inline code."""
    spans = [(m.start(), m.end()) for m in _FENCE_RE.finditer(text)]
    for m in _INLINE_CODE_RE.finditer(text):
        if not any(s <= m.start() < e for s, e in spans):
            spans.append((m.start(), m.end()))
    return spans


def table_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of markdown table rows (lines that start and end with ``|``)."""
    return [(m.start(), m.end()) for m in _TABLE_LINE_RE.finditer(text)]


def inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """True when ``[start, end)`` overlaps any of ``spans``."""
    return any(s < end and start < e for s, e in spans)
