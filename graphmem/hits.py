"""What search returns: hits with provenance and an explanation."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping, Sequence

from graphmem.errors import InputError
from graphmem.retrieve.types import UNITS  # the one registry of units, re-exported
from graphmem.scripts import cjk_characters

__all__ = ["Hit", "UNITS", "explain_text", "context_text", "excerpt", "captioned", "with_caption", "CONTEXT_CHARS",
           "grapheme_boundary"]

#: Characters of each memory's text :meth:`graphmem.Memory.context` gives by default: a longer
#: text (an assistant's essay, a pasted document) is cut to the part around the query's words.
CONTEXT_CHARS = 1000

ELLIPSIS = "…"
# where a text may be cut: after a sentence's end (Chinese and Japanese end one without a space,
# Hindi with a danda, Arabic's question mark is its own), or at a line break (code, lists, tables)
_PIECE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？؟।])\s*|\s*\n\s*")


@dataclass(frozen=True)
class Hit:
    """One retrieved memory.

    Attributes:
        node_id: id of the node in the graph.
        unit: ``"turn"``, ``"event"``, ``"episode"`` or ``"session"``.
        text: the memory's text.
        score: fused relevance score (higher is better; comparable within one result list).
        strategy: the strategy that produced the hit (``"dense"``, ``"lexical"``,
            ``"activation"``, ``"expansion"``, or ``"auto"`` when several were fused).
        source_id: the id the source gave the turn (LoCoMo ``dia_id``), if any.
        conversation_id: key of the conversation the hit belongs to.
        session_id: node id of its session; session_key/session_number as in the source.
        speaker: who said it (turns and events).
        timestamp: ISO 8601 time of the turn or session start, if known (when it was said).
        explanation: how the hit was found: contributions per strategy, seeds, edges.
        time_start: when what it tells happened, as resolved from time expressions
            ("last Saturday"): the earliest start over its events whose time is known
            (an event hit: its own), ISO 8601; None when none is known.
        time_end: the latest end over those events, ISO 8601; None when none is known.
        caption: the description of the image its message carried (turn hits; an event hit:
            its turn's), if any.
        metadata: the metadata its message carried (``Memory.add``'s ``metadata``, a JSONL
            line's or a native turn's), for turn hits and event hits (their turn's); empty
            for episodes and sessions.
    """

    node_id: str
    unit: str
    text: str
    score: float
    strategy: str
    source_id: str | None = None
    conversation_id: str | None = None
    session_id: str | None = None
    session_key: str | None = None
    session_number: int | None = None
    speaker: str | None = None
    timestamp: str | None = None
    explanation: Mapping[str, Any] = field(default_factory=dict)
    time_start: str | None = None
    time_end: str | None = None
    caption: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self, explain: bool = False) -> dict[str, Any]:
        """A JSON-ready dict of the hit's fields.

        Args:
            explain: include ``explanation`` (how the hit was found; often larger than the
                rest of the hit together). Left out by default.
        """
        data = asdict(self)
        if not explain:
            del data["explanation"]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Hit":
        """The Hit that :meth:`to_dict` gave ``data`` (keys it does not know are ignored).

        Raises:
            KeyError: a required field (``node_id``, ``unit``, ``text``, ``score``, ``strategy``) is missing.
        """
        names = cls.__dataclass_fields__
        values = {k: v for k, v in data.items() if k in names}
        values["score"] = float(data["score"])
        values.setdefault("explanation", {})
        return cls(**values)

    def _repr_html_(self) -> str:
        from html import escape

        where = " · ".join(
            escape(str(v)) for v in (self.source_id, f"session {self.session_number}" if self.session_number else None, self.timestamp) if v
        )
        return (
            f"<div><b>{escape(self.unit)}</b> <code>{self.score:.3f}</code> "
            f"<i>{escape(self.strategy)}</i> {where}<br>"
            f"{escape(self.speaker + ': ') if self.speaker else ''}{escape(with_caption(self, self.text))}</div>"
        )


_ZWJ = "\u200d"
_REGIONAL = range(0x1F1E6, 0x1F200)


def _continues(text: str, i: int) -> bool:
    """Whether ``text[i]`` belongs to the character cluster before it: a combining mark (a virama, a
    vowel sign, an accent), a variation selector or skin tone, the character after a zero-width joiner,
    or the second regional indicator of a flag."""
    if i <= 0 or i >= len(text):
        return False
    char, before = text[i], text[i - 1]
    code = ord(char)
    if unicodedata.category(char) in ("Mn", "Mc", "Me") or char == _ZWJ or before == _ZWJ:
        return True
    if 0xFE00 <= code <= 0xFE0F or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F:
        return True
    if code in _REGIONAL and ord(before) in _REGIONAL:  # a flag is a pair: count the indicators before it
        run = 0
        while i - run - 1 >= 0 and ord(text[i - run - 1]) in _REGIONAL:
            run += 1
        return run % 2 == 1
    return False


def grapheme_boundary(text: str, i: int, *, forward: bool) -> int:
    """``i`` moved (forward, or back) to the nearest place that does not split a character cluster
    (an emoji flag or family, a letter and its marks)."""
    while 0 < i < len(text) and _continues(text, i):
        i += 1 if forward else -1
    return i


def excerpt(text: str, query: str, limit: int) -> str:
    """The part of ``text`` around ``query``'s words, in at most ``limit`` characters of it.

    A text of at most ``limit`` characters is returned whole. A longer one is split into
    sentences and lines; the one sharing the most of the query's words (as search's keyword
    index reads them: stemmed, stop words left out, a word rarer in the text counting more)
    is kept with as many of its neighbours, before and after, as fit, the better-matching
    neighbour first (on a tie, the one on the side with less kept). ``…`` marks each cut, so the result may pass ``limit`` by two of them.
    Without a shared word the text's beginning is kept. One sentence longer than ``limit``
    is cut around its first shared word, at spaces where it has them.

    Example:
        >>> excerpt("Hi there. " * 50 + "My sister Ana moved to Lisbon in March. " + "Bye now. " * 50,
        ...         "Where does Ana live?", 60)
        '… Hi there. My sister Ana moved to Lisbon in March. Bye now. …'
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    if len(text) <= limit:
        return text
    from graphmem.retrieve.lexical import Tokenizer

    tokenize = Tokenizer()
    pieces: list[tuple[int, int]] = []  # (start, end) of each sentence or line, blanks between left out
    start = 0
    for cut in _PIECE_END.finditer(text):
        if cut.start() > start:
            pieces.append((start, cut.start()))
        start = cut.end()
    if start < len(text):
        pieces.append((start, len(text)))
    if not pieces:  # only blanks
        return text[:limit] + ELLIPSIS  # (blanks: no cluster to split)
    wanted = set(tokenize(query))
    words = [set(tokenize(text[a:b])) & wanted for a, b in pieces]
    counts: dict[str, int] = {}
    for found in words:
        for word in found:
            counts[word] = counts.get(word, 0) + 1
    weight = {word: math.log(1.0 + len(pieces) / count) for word, count in counts.items()}
    scores = [sum(weight[w] for w in found) for found in words]
    best = max(range(len(pieces)), key=lambda i: (scores[i], -i))
    a, b = pieces[best]
    if b - a > limit:  # one long sentence: cut it around its first shared word
        at = _first_shared(text, a, b, words[best], tokenize)
        lo = max(a, min(at - limit // 3, b - limit))
        hi = lo + limit
        if lo > a:
            space = text.find(" ", lo, at)
            lo = space + 1 if space >= 0 else lo
        if hi < b:
            space = text.rfind(" ", max(lo, at), hi)
            hi = space if space > lo else hi
        whole = grapheme_boundary(text, lo, forward=True), grapheme_boundary(text, hi, forward=False)
        if whole[1] > whole[0]:  # (one cluster longer than the limit, a run of combining marks, is cut as it fell)
            lo, hi = whole
        return (ELLIPSIS + " " if lo > 0 else "") + text[lo:hi] + (" " + ELLIPSIS if hi < len(text) else "")
    first = last = best
    centre = (a + b) / 2
    while True:  # grow by the better-matching neighbour while it fits (on a tie, the shorter side's)
        options = [i for i in (last + 1, first - 1) if 0 <= i < len(pieces)
                   and max(b, pieces[i][1]) - min(a, pieces[i][0]) <= limit]
        if not options:
            break
        step = max(options, key=lambda i: (scores[i], (b - centre <= centre - a) == (i > last)))
        first, last = min(first, step), max(last, step)
        a, b = pieces[first][0], pieces[last][1]
    return (ELLIPSIS + " " if a > 0 else "") + text[a:b] + (" " + ELLIPSIS if b < len(text) else "")


def _first_shared(text: str, a: int, b: int, shared: set[str], tokenize: Callable[[str], list[str]]) -> int:
    """Where the first word of ``text[a:b]`` whose stem is one of ``shared`` starts ("hiking" ->
    "hike": a stem is not always a prefix); in a run of Chinese or Japanese characters (one word of
    letters), where the first shared pair or character of it is ("钢琴" in the middle of a sentence)."""
    known: dict[str, set[str]] = {}  # each distinct word tokenised once: a pasted megabyte repeats its words
    for m in re.finditer(r"\w+", text[a:b]):
        found = known.get(m.group())
        if found is None:
            found = known[m.group()] = set(tokenize(m.group())) & shared
        if found:
            start, end = a + m.start(), a + m.end()
            inside = [i for i in (text.find(t, start, end) for t in found if cjk_characters(t)) if i >= 0]
            return min(inside, default=start)
    return a


def _when(hit: Hit) -> str:
    """When a hit was said, as ``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM`` (empty when unknown)."""
    stamp = (hit.timestamp or "").replace("T", " ")
    return stamp[:16] if len(stamp) >= 16 and stamp[11:16] != "00:00" else stamp[:10]


def captioned(text: str, caption: str | None) -> str:
    """``text`` followed by ``[image: caption]`` when its message carried an image caption, as a
    message is shown to a reader (the CLI's tables, MCP lines, prompt-ready context)."""
    return f"{text} [image: {caption}]" if caption else text


def with_caption(hit: Hit, text: str) -> str:
    """``text`` (a turn hit's text, or the part of it shown) followed by ``[image: ...]`` when
    its message carried an image caption: what a reader of the memory needs of a turn such as
    "Look at this!". An event hit's text says it already ("shared an image: ...")."""
    return captioned(text, hit.caption) if hit.unit == "turn" else text


def check_max_chars(max_chars: Any) -> None:
    """Raise :class:`InputError` unless ``max_chars`` is a whole number of at least 1 or None."""
    if max_chars is not None and (isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1):
        raise InputError(f"max_chars must be a whole number of at least 1 (or None for whole texts), not {max_chars!r}")


def context_text(query: str, hits: Sequence[Hit], max_chars: int | None = CONTEXT_CHARS) -> str:
    """A prompt-ready block of ``hits`` for ``query``: one numbered entry per hit, each with its
    date, speaker, session and source id, then the text (what :meth:`graphmem.Memory.context`
    returns). A text longer than ``max_chars`` is cut to the part around the query's words
    (:func:`excerpt`); ``None`` keeps every text whole.

    Example of one entry::

        [1] 2023-05-08 13:56 · Caroline · session 1 of conv-26 · source D1:3 · happened 2023-05-07
            I went to a LGBTQ support group yesterday and it was so powerful.

    Raises:
        InputError: ``max_chars`` is not a whole number of at least 1 (nor None).
    """
    check_max_chars(max_chars)
    if not hits:
        return f"No memories found for: {query}"
    lines = [f"Memories relevant to: {query}", f"({len(hits)} {'memory' if len(hits) == 1 else 'memories'}, most relevant first)"]
    for i, hit in enumerate(hits, 1):
        head = [f"[{i}]", _when(hit) or "date unknown"]
        if hit.speaker:
            head.append(hit.speaker)
        session = f"session {hit.session_key or hit.session_number}" if (hit.session_key or hit.session_number) else ""
        if hit.conversation_id:
            session = f"{session} of {hit.conversation_id}" if session else f"conversation {hit.conversation_id}"
        if session:
            head.append(session)
        head.append(f"source {hit.source_id or hit.node_id}")
        if hit.time_start:
            start, end = hit.time_start[:10], (hit.time_end or hit.time_start)[:10]
            head.append(f"happened {start}" if start == end else f"happened {start} to {end}")
        text = hit.text if max_chars is None else excerpt(hit.text, query, max_chars)
        lines.append(head[0] + " " + " · ".join(head[1:]))
        lines.append("    " + _indented(with_caption(hit, text.strip())))
    return "\n".join(lines)


def _indented(text: str) -> str:
    """``text``'s lines, each after the first indented as a context entry's (code, lists and tables
    keep their lines: they were joined into one, which left code unreadable), trailing blanks cut."""
    return "\n".join(("    " + line if i and line else line) for i, line in enumerate(line.rstrip() for line in text.splitlines()))


#: How many of a conversation's latest messages :meth:`graphmem.Memory.recall` shows, by default.
RECENT_MESSAGES = 20


def recall_plan(conversation: Any, query: Any, window: Sequence[Mapping[str, Any]],
                search: Mapping[str, Any], latest: Sequence[Mapping[str, Any]] = ()) -> tuple[str, dict[str, Any]]:
    """The query and search arguments of a recall, once its recent ``window`` (the conversation's
    last messages) is read: the query given, else the text of the last message of the window (of
    ``latest``, the conversation's latest message, with no window), which is not recalled either;
    the window's turns excluded, beside any ``exclude`` given.

    Raises:
        InputError: no query given and no message to take one from.
    """
    taken: list[str] = []
    if query is None:
        source = window or latest
        if not source:
            raise InputError(f"query: none given, and conversation {conversation!r} has no message to take it from")
        query = source[-1]["text"]
        taken = [] if window else [source[-1]["turn_id"]]
    excluded = search.get("exclude")
    excluded = [] if excluded is None else [excluded] if isinstance(excluded, str) else list(excluded)
    return query, {**search, "exclude": [*(m["turn_id"] for m in window), *taken, *excluded]}


def validate_recall(conversation: Any, query: Any, recent: Any, max_chars: Any = None) -> None:
    """Check :meth:`graphmem.Memory.recall`'s own arguments (the search's are checked by search).

    Raises:
        InputError: naming the argument.
    """
    if not isinstance(conversation, str) or not conversation.strip():
        raise InputError(f"conversation: expected a non-empty key, got {conversation!r}")
    if query is not None and (not isinstance(query, str) or not query.strip()):
        raise InputError(f"query: expected a question or None (the latest message), got {query!r}")
    if isinstance(recent, bool) or not isinstance(recent, int) or recent < 0:
        raise InputError(f"recent: expected a number of messages (0 for none), got {recent!r}")
    check_max_chars(max_chars)


def recall_parts(messages: Callable[..., list[dict[str, Any]]], search: Callable[..., list[Hit]], conversation: str,
                 query: str | None, recent: int, k: int, max_chars: int | None,
                 options: Mapping[str, Any]) -> tuple[list[dict[str, Any]], str, list[Hit]]:
    """A recall (:meth:`graphmem.Memory.recall`) through ``messages`` and ``search`` (a Memory's):
    the window read, the query and exclusions planned, the search run: ``(window, query, hits)``
    (:func:`recall_text` makes the text of them)."""
    validate_recall(conversation, query, recent, max_chars)
    window = messages(conversation, last=recent) if recent else []
    latest = messages(conversation, last=1) if query is None and not window and recent == 0 else []
    query, options = recall_plan(conversation, query, window, options, latest)
    return window, query, search(query, k=k, **options)


def recall_text(conversation: str, window: Sequence[Mapping[str, Any]], query: str, hits: Sequence[Hit],
                max_chars: int | None = CONTEXT_CHARS, recent: int = RECENT_MESSAGES) -> str:
    """What :meth:`graphmem.Memory.recall` returns: the conversation's recent messages, oldest
    first, one line each (``[2024-03-16 19:30 · Ada] text``), then :func:`context_text` of the
    memories recalled for ``query`` (none of them in the window)."""
    parts = []
    if recent:
        head = f"Recent messages of conversation {conversation}"
        if not window:
            parts.append(f"{head}: none yet")
        else:
            lines = [f"{head} (the last {len(window)}, oldest first):"]
            for message in window:
                stamp = (message.get("timestamp") or "").replace("T", " ")[:16]
                where = " · ".join(x for x in (stamp, message.get("speaker") or "") if x)
                text = message.get("text") or ""
                text = text if max_chars is None else excerpt(text, "", max_chars)
                lines.append(f"[{where}] {captioned(' '.join(text.split()), message.get('caption'))}")
            parts.append("\n".join(lines))
    parts.append(context_text(query, hits, max_chars))
    return "\n\n".join(parts)


def _num(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else str(value)


def _seeds(seeds: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{s.get('label')} ({_num(s.get('weight', s.get('relevance', '')))})" for s in seeds)


def explain_text(hit: Hit) -> str:
    """Readable multi-line explanation of a hit (what :meth:`graphmem.Memory.explain` returns).

    Lines: what the hit is and its score; the strategies' contributions (with their share of
    the score); the route the router chose; the evidence of each strategy (BM25 terms,
    matched embedding, episode, expansion edge, calendar match, activation seeds, edges and
    path); the finer unit a coarser hit was found through.
    """
    e = hit.explanation or {}
    where = " · ".join(str(v) for v in (
        f"{hit.unit} {hit.source_id or hit.node_id[:24]}",
        f"session {hit.session_number}" if hit.session_number is not None else None,
        hit.timestamp) if v)
    lines = [f"{where} · score {hit.score:.3f} · strategy {hit.strategy}"]
    text = f"{hit.speaker}: {hit.text}" if hit.speaker else hit.text
    lines.append("  " + (text if len(text) <= 160 else text[:157] + "..."))
    parts = e.get("contributions") or {}
    total = sum(v for v in parts.values() if isinstance(v, (int, float)) and v > 0) or 1.0
    if parts:
        lines.append("contributions: " + ", ".join(
            f"{k} {_num(v)} ({100 * v / total:.0f}%)" if isinstance(v, (int, float)) and v > 0 else f"{k} {_num(v)}"
            for k, v in sorted(parts.items(), key=lambda kv: -kv[1])))
    if e.get("route"):
        lines.append("route: " + "; ".join(e["route"]))
    if e.get("entropy"):
        lines.append("relevance entropy: " + ", ".join(f"{g} {_num(h)}" for g, h in e["entropy"].items()))
    if "lexical" in e:
        lex = e["lexical"]
        lines.append(f"lexical: BM25 {_num(lex.get('bm25'))}" + (f", terms: {', '.join(lex['terms'])}" if lex.get("terms") else ""))
    if "dense" in e:
        dense = e["dense"]
        lines.append(f"dense: cosine {_num(dense.get('cosine'))}" + (f", matched {dense['matched']}" if dense.get("matched") else ""))
    if "episode" in e:
        ep = e["episode"]
        lines.append(f"episode: {ep.get('label')} (BM25 {_num(ep.get('bm25'))}, cosine {_num(ep.get('cosine'))})")
    if "expansion" in e:
        x = e["expansion"]
        if "seed" in x and x.get("seed") is None:
            lines.append(f"expansion: not reached from the seeds; ranked by its own relevance {_num(x.get('relevance'))}")
        elif "seed" in x:
            lines.append(f"expansion: reached from seed {x['seed']} (rank {x.get('seed_rank')}) over {x.get('edge')}"
                         f" (edge weight {_num(x.get('edge_weight'))}), own relevance {_num(x.get('relevance'))}")
        elif x.get("edge"):
            lines.append(f"expansion: {x['edge']} from {x.get('from')} (relevance {_num(x.get('relevance'))})")
        else:
            lines.append(f"expansion: its own turn is the best of its neighbourhood (relevance {_num(x.get('relevance'))})")
    if e.get("seeds") and "activation" not in e:
        lines.append("seeds: " + _seeds(e["seeds"]))
    if "time" in e:
        named = [f"{part} {e['time'][part]}" for part in ("months", "years") if e["time"].get(part)]
        named += [f"days {', '.join(e['time']['days'])}"] if e["time"].get("days") else []
        match = e["time"].get("match")
        near = isinstance(match, (int, float)) and match < 0.999
        lines.append(f"time: the query names {', '.join(named)}; " + (f"this memory's date is near them (match {_num(match)})"
                                                                      if near else "this memory's date matches"))
    if "activation" in e:
        a = e["activation"]
        lines.append(f"activation: {_num(a.get('score'))} (own seed share {_num(a.get('seed_share'))})")
        if a.get("seeds"):
            lines.append("  seeds: " + _seeds(a["seeds"]))
        if a.get("edges"):
            lines.append("  edges in: " + "; ".join(f"{x['type']} from {x['from']} ({_num(x['amount'])})" for x in a["edges"]))
        if a.get("path"):
            lines.append("  path: " + " -> ".join(a["path"]))
    if "via" in e:
        lines.append(f"found through: {e['via'].get('label')}")
    if "time_range" in e:
        lines.append(f"time range: {e['time_range'][0] or '...'} to {e['time_range'][1] or '...'}")
    return "\n".join(lines)
