"""Deterministic, namespaced content-hash ids for every node."""

from __future__ import annotations

import hashlib
import json

from graphmem.errors import ConfigurationError

__all__ = ["node_id", "namespace_slug", "validate_namespace", "MAX_NAMESPACE"]

MAX_NAMESPACE = 256


def node_id(namespace: str, kind: str, *parts: object) -> str:
    """Return the id of a node of ``kind`` in ``namespace`` identified by ``parts``.

    The id is a hash of the namespace, the kind and the parts, so the same input
    in the same namespace always gets the same id and two namespaces never share one.

    >>> node_id("default", "turn", "conv-1", "1", 0) == node_id("default", "turn", "conv-1", "1", 0)
    True
    """
    payload = json.dumps([namespace, kind, *parts], ensure_ascii=False, separators=(",", ":"), default=str)
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
    return f"{kind}:{digest}"


def namespace_slug(namespace: str) -> str:
    """A filesystem-safe, collision-resistant name for a namespace's cache folder."""
    return hashlib.sha256(namespace.encode("utf-8")).hexdigest()[:20]


def validate_namespace(namespace: object) -> str:
    """A namespace is any non-blank string of at most 256 characters, stored verbatim."""
    if not isinstance(namespace, str) or not namespace.strip():
        raise ConfigurationError("namespace must be a non-empty string")
    if len(namespace) > MAX_NAMESPACE:
        raise ConfigurationError(f"namespace longer than {MAX_NAMESPACE} characters")
    if "\x00" in namespace:
        raise ConfigurationError("namespace must not contain NUL characters")
    try:
        namespace.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigurationError("namespace is not valid Unicode text (a lone surrogate such as \\ud800)") from None
    return namespace
