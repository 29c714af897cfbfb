"""JSONL chat messages: one ``{"role"|"speaker", "content"|"text", "timestamp"?}`` per line."""

from __future__ import annotations

from dataclasses import replace

import json
from datetime import datetime
import logging
from pathlib import Path

from graphmem.errors import InputError
from graphmem.loaders.chat import (MESSAGE_FIELDS, framework_message, message_caption, message_metadata, message_text,
                                   reject_unknown_fields, speaker_fields)
from graphmem.loaders.checks import optional_str, reject_unencodable, require_dict, text_lines
from graphmem.loaders.dates import epoch_text, epoch_time, parse_datetime
from graphmem.records import ConversationRecord, SessionRecord, TurnRecord

__all__ = ["load_jsonl"]

logger = logging.getLogger(__name__)

#: A line's fields: a message's own (as :meth:`graphmem.Memory.add` takes them) and the keys of
#: its session and conversation.
LINE_FIELDS = MESSAGE_FIELDS | {"session", "conversation"}


def _pick(path: Path, where: str, obj: dict, names: tuple[str, str]) -> str:
    for name in names:
        if name in obj:
            value = obj[name]
            if not isinstance(value, str):
                raise InputError(f"{path}: {where}.{name}: expected a string, got {type(value).__name__ if value is not None else 'null'}")
            if not value.strip():
                raise InputError(f"{path}: {where}.{name}: empty")
            return value
    raise InputError(f"{path}: {where}: missing field '{names[0]}' (or '{names[1]}')")


def _content(path: Path, where: str, obj: dict) -> str | None:
    """A line's text, validated; ``None`` when it has none to remember (see
    :func:`graphmem.loaders.chat.message_text`)."""
    found = message_text(obj, f"{path}: {where}")
    if found is None:
        return None
    name, text = found
    if name is None:
        return _pick(path, where, obj, ("text", "content"))  # missing or null: the error names it
    return _pick(path, where, {name: text}, (name, name))


def load_jsonl(path: Path, text: str, conversation_key: str) -> list[ConversationRecord]:
    """Parse JSONL chat messages into one conversation.

    Optional fields per line: ``timestamp`` (ISO 8601, a readable date or a Unix time in seconds),
    ``id`` (source id), ``caption`` and ``metadata`` (scalar values), as
    :meth:`graphmem.Memory.add` reads them, ``session`` (session key: the lines with one key form one
    session, numbered in the order the keys first appear, each line in file order within its
    session; default a single session ``"1"``),
    ``conversation`` (conversation key; lines of several conversations may be mixed).
    Lines as chat APIs write messages are read too (:mod:`graphmem.loaders.chat`): content
    parts, ``name``, and tool calls, whose lines without text are skipped (and logged).
    Any other field is an error naming its line: a field the memory would not keep is never
    dropped silently.
    """
    by_conversation: dict[str, dict[str, list[TurnRecord]]] = {}
    session_dates: dict[tuple[str, str], datetime | None] = {}
    skipped = 0
    for lineno, line in enumerate(text_lines(text), start=1):
        if not line.strip():
            continue
        where = f"line {lineno}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{lineno}:{exc.colno}: malformed JSON: {exc.msg}") from exc
        except RecursionError as exc:
            raise InputError(f"{path}:{lineno}: JSON nested too deeply") from exc
        obj = require_dict(path, where, reject_unencodable(path, where, raw))
        obj = dict(framework_message(obj))  # a LangChain message: its type says its role
        if lineno == 1 and isinstance(obj.get("format"), str) and obj["format"].startswith("graphmem.dump/"):
            raise InputError(f"{path}: a graphmem dump ({obj['format']}), not messages: load it with `graphmem import`")
        reject_unknown_fields(obj, f"{path}: {where}", LINE_FIELDS)
        speaker = _pick(path, where, obj, speaker_fields(obj))
        content = _content(path, where, obj)
        if content is None:
            skipped += 1
            continue
        stamp = obj.get("timestamp")
        timestamp: datetime | None
        if isinstance(stamp, str) and epoch_text(stamp) is not None:  # a Unix time written as text (Slack's ts)
            stamp = epoch_text(stamp)
        if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):  # a Unix time
            timestamp = epoch_time(stamp, f"{path}: {where}.timestamp")
        else:
            ts_text = optional_str(path, where, obj, "timestamp")
            timestamp = parse_datetime(ts_text)
            if ts_text and timestamp is None:
                raise InputError(f"{path}: {where}.timestamp: not a date: {ts_text!r}")
        source_id = obj.get("id")
        if source_id is not None and not isinstance(source_id, (str, int)) or isinstance(source_id, bool):
            raise InputError(f"{path}: {where}.id: expected a string or integer")
        session = obj.get("session", "1")
        if not isinstance(session, (str, int)) or isinstance(session, bool) or not str(session).strip():
            raise InputError(f"{path}: {where}.session: expected a non-empty string or integer")
        conv = optional_str(path, where, obj, "conversation") or conversation_key
        sessions = by_conversation.setdefault(conv, {})
        sessions.setdefault(str(session), []).append(
            TurnRecord(speaker=speaker, text=content, source_id=None if source_id is None else str(source_id), timestamp=timestamp,
                       caption=message_caption(obj, f"{path}: {where}"), metadata=message_metadata(obj, f"{path}: {where}"))
        )
        if session_dates.get((conv, str(session))) is None:  # its first message that says when
            session_dates[(conv, str(session))] = timestamp
    if skipped:
        logger.info("%s: %d lines have no text to remember (a tool call, an image): skipped", path, skipped)
    if not by_conversation:
        raise InputError(f"{path}: no messages (empty JSONL file)" if not skipped else
                         f"{path}: no message with text ({skipped} lines hold only tool calls or images)")
    records = []
    for conv, sessions in by_conversation.items():
        # a message that does not say when it was said is stored at its session's start, as a native file's
        # and a dated add's are (messages showed that time while its hits had none and said "date unknown")
        session_records = tuple(
            SessionRecord(key=key, number=i + 1, started_at=session_dates.get((conv, key)),
                          turns=tuple(t if t.timestamp is not None or session_dates.get((conv, key)) is None
                                      else replace(t, timestamp=session_dates[(conv, key)]) for t in turns))
            for i, (key, turns) in enumerate(sessions.items())
        )
        speakers = tuple(dict.fromkeys(t.speaker for s in session_records for t in s.turns))
        records.append(ConversationRecord(key=conv, sessions=session_records, speakers=speakers, source=str(path)))
    return records
