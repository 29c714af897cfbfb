"""Loaders: read a conversation source, validate it, return ConversationRecords.

Every loader reads the whole source and validates it before returning, so a bad
file raises :class:`~graphmem.errors.InputError` (naming the file and the place)
before anything is written.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from dataclasses import replace
import zlib
from datetime import tzinfo
from pathlib import Path
from typing import Any, Callable

from graphmem.errors import InputError
from graphmem.loaders.checks import reject_unencodable
from graphmem.loaders.jsonl import load_jsonl
from graphmem.loaders.locomo import is_locomo, parse_locomo
from graphmem.loaders.longmemeval import is_longmemeval, parse_longmemeval
from graphmem.loaders.native import is_native, parse_native
from graphmem.loaders.transcript import load_transcript
from graphmem.records import ConversationRecord, stored_times, validate_records

__all__ = ["FORMATS", "file_key", "load", "read_json"]

logger = logging.getLogger(__name__)

FORMATS = ("auto", "locomo", "longmemeval", "jsonl", "transcript", "native")


def read_text(path: Path) -> str:
    """Read a UTF-8 (optionally gzipped) text file, with a clear error on failure."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{path}: corrupt gzip data: {exc}") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(f"{path}:{line}:{col}: invalid UTF-8 (byte 0x{raw[exc.start]:02x})") from exc


def read_json(path: Path, text: str | None = None) -> Any:
    """Parse a JSON file; a syntax error names the line and column."""
    text = read_text(path) if text is None else text
    if not text.strip():
        raise InputError(f"{path}: empty file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}:{exc.colno}: malformed JSON: {exc.msg}") from exc
    except RecursionError as exc:
        raise InputError(f"{path}: JSON nested too deeply") from exc
    return reject_unencodable(path, "", data)


def _longmemeval_haystacks(path: Path, data: Any) -> list[ConversationRecord]:
    """Each LongMemEval question's haystack as one conversation, keyed by the question id."""
    return [q.conversation for q in parse_longmemeval(path, data) if q.conversation.sessions]


def _detect(path: Path, text: str) -> str:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".jsonl") or name.endswith(".ndjson"):
        return "jsonl"
    if name.endswith(".json"):
        return "json"
    stripped = text.lstrip()
    if stripped.startswith("[") or stripped.startswith("{"):
        first_line = stripped.split("\n", 1)[0].strip()
        if first_line.startswith("{") and first_line.endswith("}") and "\n" in stripped.strip():
            return "jsonl"
        return "json"
    return "transcript"


_EXTENSIONS = (".gz", ".jsonl", ".json", ".ndjson", ".txt", ".md", ".log")


def file_key(path: Path) -> str:
    """A conversation key from a file's name: the name without its format extensions (``chat`` for
    ``chat.jsonl.gz``, ``chat.2024-05-08`` for ``chat.2024-05-08.jsonl``: date-stamped exports of one
    chat are conversations of their own, where the name up to its first dot made them one, and the
    second file's messages replaced the first's by position). A name that is no text (an undecodable
    byte) is refused, naming it."""
    name = path.name
    while name.lower().endswith(_EXTENSIONS) and "." in name[1:]:
        name = name[: name.rfind(".")]
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{path}: the file name holds a byte that is no UTF-8 text; give the conversation a key "
                         "(conversation_id, --conversation-id)") from None
    return name or "conversation"


def load(
    source: str | os.PathLike[str],
    format: str = "auto",
    conversation_id: str | None = None,
    timezone: tzinfo | None = None,
) -> list[ConversationRecord]:
    """Load and validate every conversation in ``source``.

    Args:
        source: path to a file (``.json``, ``.jsonl``, ``.txt``; ``.gz`` allowed).
        format: ``auto``, ``locomo``, ``longmemeval`` (each question's haystack is a
            conversation keyed by its question id), ``jsonl``, ``transcript`` or ``native``.
        conversation_id: key for sources without one (JSONL, transcripts);
            defaults to the file name without extensions.
        timezone: the zone a time written without an offset is read in (``None``: UTC;
            :attr:`graphmem.settings.Settings.tz`).

    Returns:
        The conversations, validated, their times naive UTC.

    Raises:
        InputError: the file is missing, unreadable, malformed or invalid; the
            message names the file and the place.
    """
    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
    path = Path(source)
    text = read_text(path)
    kind = _detect(path, text) if format == "auto" else format
    if conversation_id is not None:
        from graphmem.errors import reject_lone_surrogates

        reject_lone_surrogates(conversation_id, "conversation_id")
    default_key = file_key(path) if conversation_id is None else conversation_id  # "" is a key, refused below as a blank one is
    loaders: dict[str, Callable[[], list[ConversationRecord]]] = {
        "jsonl": lambda: load_jsonl(path, text, default_key),
        "transcript": lambda: load_transcript(path, text, default_key),
        "locomo": lambda: parse_locomo(path, read_json(path, text)),
        "native": lambda: parse_native(path, read_json(path, text)),
        "longmemeval": lambda: _longmemeval_haystacks(path, read_json(path, text)),
    }
    if kind == "json":
        data = read_json(path, text)
        if is_locomo(data):
            kind = "locomo"
        elif is_native(data):
            kind = "native"
        elif is_longmemeval(data):
            kind = "longmemeval"
        else:
            raise InputError(
                f"{path}: unrecognised JSON layout: expected a LoCoMo list of samples with "
                "'conversation', a LongMemEval list of questions with 'haystack_sessions', or a "
                "native conversation object with 'sessions' (see schemas/conversation.schema.json)"
            )
        parse = {"locomo": parse_locomo, "native": parse_native, "longmemeval": _longmemeval_haystacks}[kind]
        records = parse(path, data)
    else:
        records = loaders[kind]()
    if not records:
        raise InputError(f"{path}: no conversations found")
    validate_records(records, str(path))
    shown = os.fsencode(path).decode("utf-8", "backslashreplace")
    if shown != str(path):  # a name holding a byte that is no UTF-8 text: stored as its escape (it failed the commit)
        records = [replace(record, source=shown) if record.source == str(path) else record for record in records]
    logger.info("loaded %d conversation(s) from %s as %s", len(records), path, kind)
    try:
        return [stored_times(record, timezone) for record in records]
    except InputError as exc:  # (it named the conversation, not the file)
        raise InputError(f"{path}: {exc}") from None
