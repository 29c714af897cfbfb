"""LoCoMo JSON (the standard ``locomo10.json`` layout)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from graphmem.errors import InputError
from graphmem.loaders.checks import optional_str, require_dict, require_list, require_str
from graphmem.loaders.dates import parse_datetime
from graphmem.records import ConversationRecord, SessionRecord, TurnRecord

__all__ = ["is_locomo", "parse_locomo"]

_SESSION_KEY = re.compile(r"^session_([0-9]+)$")  # ASCII digits: \d also took "session_١" as session 1


def is_locomo(data: Any) -> bool:
    """True when ``data`` looks like LoCoMo: a sample or a list of samples with ``conversation``."""
    if isinstance(data, dict):
        return "conversation" in data
    return isinstance(data, list) and bool(data) and all(isinstance(s, dict) and "conversation" in s for s in data)


def _parse_turn(path: Path, where: str, raw: Any, started_at) -> TurnRecord:
    turn = require_dict(path, where, raw)
    speaker = require_str(path, where, turn, "speaker")
    text = require_str(path, where, turn, "text", allow_empty=True)
    dia_id = require_str(path, where, turn, "dia_id")
    caption = optional_str(path, where, turn, "blip_caption")
    if not text.strip() and not (caption and caption.strip()):
        raise InputError(f"{path}: {where}.text: empty turn (no text and no image caption)")
    return TurnRecord(speaker=speaker, text=text, source_id=dia_id, timestamp=started_at, caption=caption or None)


def _parse_sample(path: Path, index: int, raw: Any) -> ConversationRecord:
    where = f"[{index}]"
    sample = require_dict(path, where, raw)
    key = sample.get("sample_id", f"sample-{index}")
    if not isinstance(key, (str, int)) or isinstance(key, bool) or not str(key).strip():
        raise InputError(f"{path}: {where}.sample_id: expected a non-empty string")
    conv = require_dict(path, f"{where}.conversation", sample.get("conversation"))
    speakers = tuple(
        require_str(path, f"{where}.conversation", conv, name) for name in ("speaker_a", "speaker_b") if name in conv
    )
    sessions: list[SessionRecord] = []
    for name in conv:
        match = _SESSION_KEY.match(name)
        if not match:
            continue
        number = int(match.group(1))
        swhere = f"{where}.conversation.{name}"
        turns_raw = require_list(path, swhere, conv[name])
        date_text = optional_str(path, f"{where}.conversation", conv, f"{name}_date_time")
        started_at = parse_datetime(date_text)
        if date_text and started_at is None:
            raise InputError(f"{path}: {where}.conversation.{name}_date_time: not a date: {date_text!r}")
        turns = tuple(_parse_turn(path, f"{swhere}[{i}]", t, started_at) for i, t in enumerate(turns_raw))
        if turns:
            sessions.append(SessionRecord(key=str(number), number=number, started_at=started_at, date_text=date_text, turns=turns))
    sessions.sort(key=lambda s: s.number)
    if not sessions:
        raise InputError(f"{path}: {where}.conversation: no sessions with turns (expected session_1, session_2, ...)")
    return ConversationRecord(key=str(key), sessions=tuple(sessions), speakers=speakers, source=str(path))


def parse_locomo(path: Path, data: Any) -> list[ConversationRecord]:
    """Validate and convert parsed LoCoMo JSON (one sample or a list of samples)."""
    samples = [data] if isinstance(data, dict) else require_list(path, "top level", data)
    if not samples:
        raise InputError(f"{path}: top level: empty list, no conversations")
    records = [_parse_sample(path, i, s) for i, s in enumerate(samples)]
    seen: set[str] = set()
    for i, rec in enumerate(records):
        if rec.key in seen:
            raise InputError(f"{path}: [{i}].sample_id: duplicate sample id {rec.key!r}")
        seen.add(rec.key)
    return records
