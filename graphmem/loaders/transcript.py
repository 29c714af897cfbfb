"""Plain ``Speaker: text`` transcripts."""

from __future__ import annotations

import re
from pathlib import Path

from graphmem.errors import InputError
from graphmem.loaders.checks import text_lines
from graphmem.loaders.dates import parse_datetime
from graphmem.records import ConversationRecord, SessionRecord, TurnRecord

__all__ = ["load_transcript"]

#: "Speaker: text"; a fullwidth colon, as Chinese and Japanese write it, needs no space after it ("李明：我...")
_TURN = re.compile(r"^(?P<speaker>[^:：\n]{1,80}?)\s*(?::\s+|：\s*)(?P<text>\S.*)$")
_SESSION = re.compile(r"^#+\s*session\b\s*(?P<number>[0-9]{1,9}\b)?[^:]*(?::\s*(?P<date>.+))?$", re.IGNORECASE | re.ASCII)


def load_transcript(path: Path, text: str, conversation_key: str) -> list[ConversationRecord]:
    """Parse a transcript: one ``Speaker: text`` per line.

    A line starting with whitespace continues the previous turn. A header line
    ``# Session N: <date>`` starts a new session (optional): ``N`` is its key and number (a
    follow-up file's ``# Session 3`` is the stored conversation's session 3, after its sessions 1
    and 2; a session without a number is numbered after the file's previous one). A date that does
    not parse is an error naming its line. Blank lines are ignored. Any other line is an error
    naming its line number.
    """
    sessions: list[tuple[str | None, list[TurnRecord], int | None]] = [(None, [], None)]
    for lineno, line in enumerate(text_lines(text), start=1):
        if not line.strip():
            continue
        header = _SESSION.match(line.strip())
        if header:
            date_text = (header.group("date") or "").strip() or None
            if date_text is not None and parse_datetime(date_text) is None:
                raise InputError(f"{path}:{lineno}: session date {date_text[:60]!r} is not a date (give year, month and day)")
            number = int(header.group("number")) if header.group("number") else None
            if sessions[-1][1] or sessions[-1][0] is not None or sessions[-1][2] is not None:
                sessions.append((date_text, [], number))
            else:
                sessions[-1] = (date_text, [], number)
            continue
        turns = sessions[-1][1]
        if line[0].isspace() and turns:
            last = turns[-1]
            turns[-1] = TurnRecord(speaker=last.speaker, text=f"{last.text}\n{line.strip()}", timestamp=last.timestamp)
            continue
        match = _TURN.match(line.rstrip())
        if not match:
            raise InputError(f"{path}:{lineno}: expected 'Speaker: text', got {line.strip()[:60]!r}")
        speaker = match.group("speaker").strip()
        if not speaker:
            raise InputError(f"{path}:{lineno}: empty speaker before ':'")
        date = parse_datetime(sessions[-1][0])
        turns.append(TurnRecord(speaker=speaker, text=match.group("text").rstrip(), timestamp=date))
    records, previous = [], 0
    for d, t, number in sessions:
        if not t:
            continue
        previous = number if number is not None else previous + 1
        records.append(SessionRecord(key=str(previous), number=previous, started_at=parse_datetime(d), date_text=d,
                                     turns=tuple(t)))
    if not records:
        raise InputError(f"{path}: no turns found (expected lines of the form 'Speaker: text')")
    speakers = tuple(dict.fromkeys(t.speaker for s in records for t in s.turns))
    return [ConversationRecord(key=conversation_key, sessions=tuple(records), speakers=speakers, source=str(path))]
