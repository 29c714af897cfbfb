"""Field checks shared by the loaders; each failure names the file and the place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphmem.errors import InputError, unencodable_at

__all__ = ["require_str", "optional_str", "require_list", "require_dict", "reject_unencodable", "text_lines"]


def text_lines(text: str) -> list[str]:
    """The lines of a line-oriented file: split on ``\n`` only (a trailing ``\r`` dropped).

    ``str.splitlines`` would also cut at U+2028, U+0085 and other separators that are
    valid inside a JSON string or a chat message."""
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def require_dict(path: Path, where: str, value: Any) -> dict[str, Any]:
    """``value`` must be a JSON object."""
    if not isinstance(value, dict):
        raise InputError(f"{path}: {where}: expected an object, got {_type_name(value)}")
    return value


def require_list(path: Path, where: str, value: Any) -> list[Any]:
    """``value`` must be a JSON array."""
    if not isinstance(value, list):
        raise InputError(f"{path}: {where}: expected an array, got {_type_name(value)}")
    return value


def require_str(path: Path, where: str, obj: dict[str, Any], field: str, *, allow_empty: bool = False) -> str:
    """``obj[field]`` must be present and a string (non-blank unless ``allow_empty``)."""
    if field not in obj:
        raise InputError(f"{path}: {where}: missing field '{field}'")
    value = obj[field]
    if not isinstance(value, str):
        raise InputError(f"{path}: {where}.{field}: expected a string, got {_type_name(value)}")
    if not allow_empty and not value.strip():
        raise InputError(f"{path}: {where}.{field}: empty")
    return value


def optional_str(path: Path, where: str, obj: dict[str, Any], field: str) -> str | None:
    """``obj[field]`` may be absent or null; otherwise it must be a string."""
    value = obj.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{path}: {where}.{field}: expected a string, got {_type_name(value)}")
    return value


def reject_unencodable(path: Path, where: str, value: Any) -> Any:
    """Refuse strings that cannot be stored as UTF-8 (JSON escapes of lone surrogates such
    as ``"\\ud800"``): they would fail later, half-way through a write."""
    at = unencodable_at(value, where)
    if at is not None:
        raise InputError(f"{path}: {at or 'top level'}: invalid Unicode (a lone surrogate escape such as \\ud800)")
    return value
