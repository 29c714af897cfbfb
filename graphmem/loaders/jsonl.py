"""JSONL chat messages: one ``{"role"|"speaker", "content"|"text", "timestamp"?}`` per line."""

from __future__ import annotations

import json
from pathlib import Path

from graphmem.errors import InputError
from graphmem.loaders.checks import optional_str, reject_unencodable, require_dict, text_lines
from graphmem.loaders.dates import parse_datetime
from graphmem.records import ConversationRecord, SessionRecord, TurnRecord

__all__ = ["load_jsonl"]


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


def load_jsonl(path: Path, text: str, conversation_key: str) -> list[ConversationRecord]:
    """Parse JSONL chat messages into one conversation.

    Optional fields per line: ``timestamp`` (ISO 8601 or a readable date),
    ``id`` (source id), ``session`` (session key; consecutive lines with the same
    key form one session; default a single session ``"1"``),
    ``conversation`` (conversation key; lines of several conversations may be mixed).
    """
    by_conversation: dict[str, dict[str, list[TurnRecord]]] = {}
    session_dates: dict[tuple[str, str], object] = {}
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
        speaker = _pick(path, where, obj, ("speaker", "role"))
        content = _pick(path, where, obj, ("text", "content"))
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
            TurnRecord(speaker=speaker, text=content, source_id=None if source_id is None else str(source_id), timestamp=timestamp)
        )
        session_dates.setdefault((conv, str(session)), timestamp)
    if not by_conversation:
        raise InputError(f"{path}: no messages (empty JSONL file)")
    records = []
    for conv, sessions in by_conversation.items():
        session_records = tuple(
            SessionRecord(key=key, number=i + 1, started_at=session_dates.get((conv, key)), turns=tuple(turns))  # type: ignore[arg-type]
            for i, (key, turns) in enumerate(sessions.items())
        )
        speakers = tuple(dict.fromkeys(t.speaker for s in session_records for t in s.turns))
        records.append(ConversationRecord(key=conv, sessions=session_records, speakers=speakers, source=str(path)))
    return records
