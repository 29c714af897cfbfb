"""Which embedding model made a namespace's vectors, stored with the namespace.

Vectors of two models do not mix: a query embedded by one model finds nothing meaningful
among another's vectors, and the stored length alone (:meth:`graphmem.memory.Memory`'s
dimension check) cannot tell two models of 384 dimensions apart, or two models saved under
one name. So a namespace stores an identity of its model (:class:`ModelIdentity`) on its
``NamespaceSettings`` node: the model setting that embedded it (``embedding_model``, named in
messages) and the model's unit vector of :data:`PROBE_TEXT` (``embedding_probe``). Two
identities are one model when their probe vectors agree to :data:`PROBE_AGREEMENT` in
cosine; the name does not decide (the bundled model named by its directory, a model directory
moved elsewhere, are the same model; other weights under the same name are not).

The probe is one text, which :class:`graphmem.embed.Embedder` embeds in float32 whatever the
precision (:data:`graphmem.embed.FLOAT32_CALL_TEXTS`); the tolerance still leaves room for
other hardware and for bfloat16 (cosine >= 0.99995 to float32). It is embedded once per
process and model (:func:`identity_of`).

Who does what: a Memory checks the namespace's identity at its first search or write and
refuses another model's (:func:`refuse_other_model`), records it after the first write into a
namespace that has none (one from before identities, adopted so), and import and copy check
the dump's and the target's before they write and record it after; ``graphmem check`` names
a namespace whose identity is not the configured model's (:func:`identity_problems`).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np

from graphmem.changes import bump
from graphmem.errors import ConfigurationError
from graphmem.namespace_settings import settings_id
from graphmem.retrieve.loader import WriteScope
from graphmem.store import GraphStore, Statement

__all__ = ["PROBE_TEXT", "PROBE_AGREEMENT", "IDENTITY_PROPERTIES", "ModelIdentity", "identity_of", "identity_from",
           "stored_identity", "holds_embeddings", "STORED_REMEDY", "refuse_other_model", "record_identity_statement",
           "record_identity_statements", "identity_problems"]

logger = logging.getLogger(__name__)

PROBE_TEXT = "Probe sentence 7: a heron crossed the grey harbour at dawn while Ana counted 42 boats."
"""The fixed text whose vector tells embedding models apart (changing it makes every stored
identity disagree: never change it)."""

PROBE_AGREEMENT = 0.9999
"""Smallest cosine between two probe vectors of one model. The same weights give 1 - cosine of
about 1e-7 on other hardware and at most 5e-5 in bfloat16 (graphmem.embed; 1.2e-5 measured for
the probe on this project's machine). Copies of the bundled model with its last layer's output
matrix scaled gave 0.99983 (by 1.05), 0.9974 (by 1.2, the tests' second model) and 0.985 (by
1.5), and those copies' vectors of other sentences agreed with the bundled model's as closely;
a copy scaled by 1.01 (0.999993) is within the precisions' noise, and its vectors mix harmlessly."""

PROBE_DECIMALS = 6
"""Decimals kept of each stored probe value (1 - cosine moves by under 1e-9)."""

#: the NamespaceSettings properties that hold the identity
IDENTITY_PROPERTIES = ("embedding_model", "embedding_probe")

_IDENTITIES: dict[tuple[str, str], "ModelIdentity"] = {}
_IDENTITIES_LOCK = threading.Lock()


@dataclass(frozen=True)
class ModelIdentity:
    """An embedding model as a namespace records it.

    Attributes:
        model: the model setting (``Settings.embedding_model``) that made the vectors.
        probe: the model's unit vector of :data:`PROBE_TEXT`, rounded to :data:`PROBE_DECIMALS`.
    """

    model: str
    probe: tuple[float, ...]

    def agreement(self, other: "ModelIdentity") -> float:
        """The cosine between the two probe vectors (0 when their lengths differ)."""
        if len(self.probe) != len(other.probe):
            return 0.0
        a, b = np.asarray(self.probe, dtype=np.float64), np.asarray(other.probe, dtype=np.float64)
        norm = float(np.linalg.norm(a) * np.linalg.norm(b))
        return float(a @ b) / norm if norm else 0.0

    def same_model(self, other: "ModelIdentity") -> bool:
        """Whether ``other`` is the same model (probe vectors within :data:`PROBE_AGREEMENT`)."""
        return self.agreement(other) >= PROBE_AGREEMENT

    def properties(self) -> dict[str, Any]:
        """The ``NamespaceSettings`` properties that store it."""
        return {"embedding_model": self.model, "embedding_probe": list(self.probe)}


def identity_of(embedder: Any) -> ModelIdentity:
    """The identity of ``embedder``'s model (a :class:`graphmem.embed.Embedder`): its setting and
    its vector of :data:`PROBE_TEXT`, embedded once per process, model and device."""
    key = (embedder.model, embedder.device)
    with _IDENTITIES_LOCK:
        known = _IDENTITIES.get(key)
    if known is not None:
        return known
    vector = np.asarray(embedder.encode([PROBE_TEXT])[0], dtype=np.float64)
    identity = ModelIdentity(embedder.model, tuple(round(float(x), PROBE_DECIMALS) for x in vector))
    with _IDENTITIES_LOCK:
        return _IDENTITIES.setdefault(key, identity)


def identity_from(props: Mapping[str, Any]) -> ModelIdentity | None:
    """The identity ``props`` (a ``NamespaceSettings`` node's, or a dump record's decoded ones)
    hold; ``None`` when they hold none, or one that is not a model name and a list of finite
    numbers (written by Cypher: :func:`identity_problems` names it)."""
    model, probe = props.get("embedding_model"), props.get("embedding_probe")
    if not isinstance(model, str) or probe is None:
        return None
    values = list(probe) if isinstance(probe, (list, tuple, np.ndarray)) else []
    if not values or not all(isinstance(v, (int, float, np.floating)) and not isinstance(v, bool) and math.isfinite(v)
                             for v in values):
        return None
    return ModelIdentity(model, tuple(float(v) for v in values))


def stored_identity(store: GraphStore, namespace: str) -> ModelIdentity | None:
    """The identity stored with ``namespace`` (``None``: none, or an unreadable one)."""
    rows = store.read("read/namespace_settings", {"namespace": namespace, "id": settings_id(namespace)})
    return identity_from(rows[0]) if rows else None


def holds_embeddings(store: GraphStore, namespace: str) -> bool:
    """Whether ``namespace`` holds a turn embedding (one indexed lookup)."""
    return bool(store.read("read/embedding_dimensions", {"namespace": namespace, "limit": 1}))


STORED_REMEDY = ("open it with the model it was made with (Settings.embedding_model, GRAPHMEM_EMBEDDING_MODEL), or "
                 "export it and import it with --reembed (reembed=True) into a memory of this model")
"""The way out of a namespace in the store embedded by another model."""


def refuse_other_model(namespace: str, stored: ModelIdentity | None, configured: ModelIdentity, *, where: str = "",
                       remedy: str = STORED_REMEDY) -> None:
    """Raise :class:`ConfigurationError` when ``stored`` (``namespace``'s identity) is not the model
    of ``configured``, naming the namespace, both models and the way out; nothing when ``stored``
    is ``None`` or the same model.

    Args:
        where: what holds ``stored`` when it is not the namespace in the store (``"dump.jsonl.gz: "``).
        remedy: the way out, ending the message.
    """
    if stored is None or stored.same_model(configured):
        return
    if stored.model == configured.model:
        other = f"this memory's model of the same name, {configured.model!r}, gives other vectors (other weights)"
    else:
        other = f"this memory's embedding model is {configured.model!r}"
    raise ConfigurationError(
        f"{where}namespace {namespace!r} was embedded with the embedding model {stored.model!r}, but {other} "
        f"(the vectors of a fixed probe sentence agree to cosine {stored.agreement(configured):.4f}, not "
        f"{PROBE_AGREEMENT}): vectors of two models cannot be searched together; {remedy}")


def record_identity_statement(namespace: str, identity: ModelIdentity) -> Statement:
    """The statement storing ``identity`` with ``namespace`` (its ``NamespaceSettings`` node, made
    when missing); put it in a transaction with a change-marker bump (:func:`record_identity_statements`)."""
    at = datetime.now(timezone.utc).replace(tzinfo=None).isoformat()
    return ("write/set_namespace_embedding_model", {"namespace": namespace, "rows": [
        {"id": settings_id(namespace), "at": at, **identity.properties()}]})


def record_identity_statements(namespace: str, identity: ModelIdentity, marker: Statement | None = None) -> list[Statement]:
    """The transaction storing ``identity`` with ``namespace``: the statement and ``marker`` (the
    cache owner's bump), else a bump that logs no unit and no session (no cache reads it)."""
    return [record_identity_statement(namespace, identity),
            marker or bump(namespace, changed=(), scope=WriteScope(frozenset(), frozenset()))]


def identity_problems(store: GraphStore, namespace: str, embedder: Any) -> dict[str, list[str]]:
    """``graphmem check``'s finding on the namespace's embedding model: a stored identity that is
    not the model of ``embedder`` (the configured one, a :class:`graphmem.embed.Embedder`, loaded
    only when there is an identity to compare) while the namespace holds embeddings
    (``embeddings_of_another_model``: every search and write is refused; the entry names both
    models), and identity properties that cannot be read (``namespace_settings_with_malformed_embedding_probe``:
    the next write records the model's again)."""
    rows = store.read("read/namespace_settings", {"namespace": namespace, "id": settings_id(namespace)})
    if not rows or all(rows[0].get(name) is None for name in IDENTITY_PROPERTIES):
        return {}
    stored = identity_from(rows[0])
    if stored is None:
        return {"namespace_settings_with_malformed_embedding_probe": [settings_id(namespace)]}
    if not holds_embeddings(store, namespace):
        return {}
    configured = identity_of(embedder)
    if stored.same_model(configured):
        return {}
    return {"embeddings_of_another_model": [f"{settings_id(namespace)} (embedded with {stored.model!r}, configured "
                                            f"{configured.model!r}, probe cosine {stored.agreement(configured):.4f})"]}
