"""graphmem's native JSON format, defined by ``schemas/conversation.schema.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphmem.errors import InputError
from graphmem.loaders.chat import message_metadata
from graphmem.loaders.dates import parse_datetime
from graphmem.records import ConversationRecord, SessionRecord, TurnRecord
from graphmem.resources import schema

__all__ = ["is_native", "parse_native", "validate_native"]


def is_native(data: Any) -> bool:
    """True when ``data`` looks like a native conversation (or list of them)."""
    if isinstance(data, dict):
        return "sessions" in data
    return isinstance(data, list) and bool(data) and all(isinstance(c, dict) and "sessions" in c for c in data)


def _json_path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out or "top level"


def validate_native(path: Path, data: Any) -> None:
    """Validate against the shipped JSON schema; raise InputError naming the JSON path."""
    import jsonschema  # lazy: only needed for native files

    validator = jsonschema.Draft202012Validator(schema("conversation.schema.json"))
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        # oneOf errors hide the useful detail in their context; show the deepest one.
        best = errors[0]
        while best.context:
            best = max(best.context, key=lambda e: len(e.absolute_path))
        raise InputError(f"{path}: {_json_path(best.absolute_path)}: {best.message}")


def _date(path: Path, where: str, value: str | None):
    parsed = parse_datetime(value)
    if value is not None and parsed is None:
        raise InputError(f"{path}: {where}: not a date: {value!r}")
    return parsed


def parse_native(path: Path, data: Any) -> list[ConversationRecord]:
    """Validate and convert parsed native JSON into conversations."""
    validate_native(path, data)
    items = data if isinstance(data, list) else [data]
    records = []
    seen: set[str] = set()
    for ci, conv in enumerate(items):
        cwhere = f"[{ci}]" if isinstance(data, list) else ""
        if conv["id"] in seen:
            raise InputError(f"{path}: {cwhere}.id: duplicate conversation id {conv['id']!r}")
        seen.add(conv["id"])
        sessions = []
        keys: set[str] = set()
        for si, sess in enumerate(conv["sessions"]):
            swhere = f"{cwhere}.sessions[{si}]"
            key = sess.get("id", str(si + 1))
            if key in keys:
                raise InputError(f"{path}: {swhere}.id: duplicate session id {key!r}")
            keys.add(key)
            started = _date(path, f"{swhere}.started_at", sess.get("started_at"))
            stamps = [_date(path, f"{swhere}.turns[{ti}].timestamp", t.get("timestamp")) for ti, t in enumerate(sess["turns"])]
            if started is None:  # a session that does not say when it started, at its first dated message (as JSONL's)
                started = next((stamp for stamp in stamps if stamp is not None), None)
            turns = tuple(
                TurnRecord(
                    speaker=t["speaker"],
                    text=t["text"],
                    source_id=t.get("id"),
                    timestamp=stamps[ti] or started,
                    caption=t.get("caption"),
                    metadata=message_metadata(t, f"{path}: {swhere}.turns[{ti}]"),
                )
                for ti, t in enumerate(sess["turns"])
            )
            sessions.append(SessionRecord(key=key, number=si + 1, started_at=started, date_text=sess.get("started_at"), turns=turns))
        speakers = tuple(conv.get("speakers") or dict.fromkeys(t.speaker for s in sessions for t in s.turns))
        metadata = message_metadata(conv, f"{path}: {cwhere or 'top level'}")
        records.append(ConversationRecord(key=conv["id"], sessions=tuple(sessions), speakers=speakers, source=str(path), metadata=metadata))
    return records
