"""Store backends behind one small contract (:class:`GraphStore`)."""

from __future__ import annotations

import os
from pathlib import Path


from graphmem.errors import ConfigurationError
from graphmem.settings import Settings
from graphmem.store.base import GraphStore, Statement, chunked

__all__ = ["GraphStore", "Statement", "chunked", "open_store", "is_bolt_uri", "BOLT_SCHEMES"]

BOLT_SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")


def is_bolt_uri(location: str) -> bool:
    """True for ``bolt://`` and ``neo4j://`` URIs (with or without TLS)."""
    return location.lower().startswith(BOLT_SCHEMES)


#: the prefix of an embedded store's name (``embedded:/path/to/store``); a location may carry it
EMBEDDED_PREFIX = "embedded:"


def open_store(
    location: str | os.PathLike[str],
    settings: Settings,
    *,
    auth: tuple[str, str] | None = None,
    database: str | None = None,
    create: bool = True,
) -> GraphStore:
    """Open the store at ``location``: a Bolt URI, or a directory for the embedded store, given
    as a path or as ``embedded:PATH`` (how stores name themselves in graphmem's output).

    The schema is applied on open (idempotently). With ``create=False`` an embedded store
    that does not exist yet is refused (``ConfigurationError("no memory at PATH")``) and
    nothing is created; a Bolt server's database is never created by graphmem.
    """
    text = str(location)
    if not text.strip():
        raise ConfigurationError("empty store location")
    if text.startswith(EMBEDDED_PREFIX):  # the name `graphmem stats` and the server print
        text = text[len(EMBEDDED_PREFIX):]
        if not text.strip() or "://" in text:
            raise ConfigurationError(f"store location {str(location)!r}: 'embedded:' must be followed by a directory path")
    elif "://" in text and not is_bolt_uri(text):
        raise ConfigurationError(f"unsupported store URI {text!r}: use a directory path (or embedded:PATH), bolt:// or neo4j://")
    if is_bolt_uri(text):
        from graphmem.store.bolt import BoltStore

        user = auth[0] if auth else settings.neo4j_user
        password = auth[1] if auth else settings.neo4j_password
        return BoltStore(text, auth=(user or "neo4j", password or ""), database=database, settings=settings).open()
    if database is not None:
        raise ConfigurationError("'database' applies to Bolt stores only")
    from graphmem.store.embedded import EmbeddedStore

    return EmbeddedStore(Path(text), jvm_heap=settings.jvm_heap, jvm_options=settings.jvm_options, create=create).open()


