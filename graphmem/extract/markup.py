"""Where the code, the tables, the web addresses and the file paths of a markdown-ish chat turn are.

Assistant answers carry fenced code blocks, inline code and markdown tables. Their text is
stored and embedded with the turn, but it is neither an event (a proposition someone said)
nor a place where names are looked for.
"""

from __future__ import annotations

import re

__all__ = ["address_spans", "code_spans", "inside", "table_spans"]

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


#: A web address (scheme or www.), up to white space, a bracket or a quote (a pair of parentheses
#: inside it, as Wikipedia's "Paris_(France)", belongs to it); a markdown link's or image's target "](...)".
_URL_RE = re.compile(r"(?:\b[a-zA-Z][a-zA-Z0-9+.-]{1,15}://|\bwww\.)[^\s<>()\[\]\"'`]+(?:\([^\s()]*\)[^\s<>()\[\]\"'`]*)*"
                     r"|\]\([^()\s]*(?:\([^()\s]*\)[^()\s]*)*\)")

#: A Windows path ("C:\\Users\\me\\June 2020\\a.jpg", "\\\\server\\share\\x"): its folders may hold spaces (a
#: folder is a name of at most 40 characters before a backslash, with no colon and no ", " or ". "
#: in it: "C:\\temp and on June 14, 2020 ... \\o/" is the path "C:\\temp"), its last part runs to white
#: space; a Unix path of two parts or more ("/home/me/2020-06-14/", "~/notes/May.txt"), up to white space.
_PATH_RE = re.compile(r"(?:\b[A-Za-z]:|\\\\[\w.$-]+)\\(?:(?:(?![,.] )[^\\\n\"'<>|*?:]){1,40}\\)*[^\s\\\"'<>|*?]*"
                      r"|(?<![\w/.:~-])(?:~|\.{1,2})?(?:/[\w.@+%-]+){2,}/?")


def address_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of web addresses, markdown link targets and file paths: where no name or time
    is looked for ("[the guide](https://example.com/Vienna)" names no city; "C:\\Photos\\June 2020\\"
    tells no time)."""
    spans: list[tuple[int, int]] = []
    if "://" in text or "www." in text or "](" in text:
        spans += [(m.start(), m.end()) for m in _URL_RE.finditer(text)]
    if "/" in text or "\\" in text:
        spans += [(m.start(), m.end()) for m in _PATH_RE.finditer(text) if not inside(spans, m.start(), m.end())]
    return spans


def table_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of markdown table rows (lines that start and end with ``|``)."""
    return [(m.start(), m.end()) for m in _TABLE_LINE_RE.finditer(text)]


def inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """True when ``[start, end)`` overlaps any of ``spans``."""
    return any(s < end and start < e for s, e in spans)
