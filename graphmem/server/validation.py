"""One line for a request's arguments that failed their schema (the HTTP bodies, the MCP tools'
arguments), in graphmem's words instead of pydantic's: ``k must be at least 1, got 0``, not
``Input should be greater than or equal to 1`` followed by a documentation link, and one line for
an argument that may take several forms (a time: ISO 8601 text or a Unix time), not one per form."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

__all__ = ["validation_message"]

#: arguments that are times: a value none of their forms takes is named as a time
TIME_ARGUMENTS = frozenset({"time_range", "session_started_at", "before", "as_of", "since", "until", "timestamp"})
#: those of them that take text alone (Memory takes no Unix time there: a question's moment, a forget's bound)
TEXT_TIME_ARGUMENTS = frozenset({"before", "as_of"})

_KINDS = {"int": "a whole number", "float": "a number", "string": "text", "bool": "true or false", "list": "a list",
          "dict": "a mapping (a JSON object)", "model": "a mapping (a JSON object)"}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _place(loc: Iterable[Any]) -> str:
    where = ""
    for part in loc:
        if part == "body":
            continue
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    return where or "the request"


def _one(where: str, error: Mapping[str, Any]) -> str:
    kind, ctx, value = str(error.get("type", "")), dict(error.get("ctx") or {}), error.get("input")
    if kind == "missing":
        return f"{where}: missing (it is required)"
    if kind == "extra_forbidden":
        return f"{where}: unknown argument"
    if kind == "string_too_short":
        return f"{where}: expected a non-empty text" if ctx.get("min_length") == 1 else \
            f"{where}: at least {ctx.get('min_length')} characters"
    if kind == "string_too_long":
        return f"{where}: at most {ctx.get('max_length')} characters, got {len(value) if isinstance(value, str) else '?'}"
    if kind == "too_long":
        return f"{where}: at most {ctx.get('max_length')} items, got {_count(value, ctx)}"
    if kind == "too_short":
        return f"{where}: at least {ctx.get('min_length')} items, got {_count(value, ctx)}"
    if kind == "greater_than_equal":
        bound = ctx.get("ge")
        return f"{where} must be a positive integer, got {_shown(value)}" if bound == 1 else \
            f"{where} must be at least {bound}, got {_shown(value)}"
    if kind == "less_than_equal":
        return f"{where} must be at most {ctx.get('le')}, got {_shown(value)}"
    for prefix, name in _KINDS.items():
        if kind.startswith(prefix + "_") or kind == prefix:
            return f"{where}: expected {name}, got {_shown(value)}"
    message = str(error.get("msg") or "invalid").splitlines()[0]
    return f"{where}: {message}"


def validation_message(errors: Iterable[Mapping[str, Any]], limit: int = 3) -> str:
    """One line naming each argument that failed (the first ``limit``). ``errors`` are pydantic's
    (``ValidationError.errors()``); the errors of one argument that takes several forms (a union,
    whose members add their tag to the place) are one message."""
    rows = [(tuple(error.get("loc") or ()), error) for error in errors]
    grouped: dict[tuple, list[Mapping[str, Any]]] = {}
    for loc, error in rows:
        # a union's members fail on the same value, each adding its tag to the place: the tag is dropped
        # (arguments side by side fail on their own values)
        member = len(loc) > 1 and isinstance(loc[-1], str) and loc[:-1] not in ((), ("body",)) and any(
            other != loc and other[:-1] == loc[:-1] and isinstance(other[-1], str) and e.get("input") is error.get("input")
            for other, e in rows)
        grouped.setdefault(loc[:-1] if member else loc, []).append(error)
    parts: list[str] = []
    for loc, group in grouped.items():
        where = _place(loc)
        names = {part for part in loc if isinstance(part, str)}
        if len(group) > 1 or (names & TIME_ARGUMENTS and group[0].get("type") not in ("missing", "extra_forbidden")):
            value = group[0].get("input")
            if names & TIME_ARGUMENTS:
                forms = "ISO 8601 text" if names & TEXT_TIME_ARGUMENTS else "ISO 8601 text or a Unix time in seconds"
                parts.append(f"{where}: expected a time ({forms}), got {_shown(value)}")
            else:
                parts.append(f"{where}: not a value this argument takes, got {_shown(value)}")
        else:
            parts.append(_one(where, group[0]))
        if len(parts) == limit:
            break
    return "; ".join(dict.fromkeys(parts)) or "invalid request"


def _count(value: Any, ctx: dict[str, Any]) -> Any:
    """How many items a too long or too short value holds (pydantic gives no count for a mapping)."""
    if ctx.get("actual_length") is not None:
        return ctx["actual_length"]
    return len(value) if hasattr(value, "__len__") else "?"
