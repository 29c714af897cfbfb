"""What a namespace's user set for it, stored with the namespace: its time zone.

:attr:`graphmem.settings.Settings.timezone` is one zone for a whole process. A server that
keeps one namespace per user serves users who live in several zones, and two processes
with different settings would read the same naive times differently. A zone stored with the
namespace (``(:NamespaceSettings {timezone})``, :meth:`graphmem.memory.Memory.set_timezone`)
is the same for every process and every server worker: each operation that reads or shows
a time reads it (one lookup by id, about 0.3 ms embedded), so a zone set by one process
applies to another's next call. Without one, ``Settings.timezone`` applies.

What the zone governs is listed in :mod:`graphmem.timezones`. Times are stored as naive UTC,
so a new zone changes how times are read from then on and how every time is shown, never a
stored time; a message's relative expressions ("yesterday") stay resolved as they were
when it was stored. An export carries the node, and an import into another namespace keeps
it there.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo

from graphmem.changes import bump
from graphmem.errors import ConfigurationError, StorageError
from graphmem.ids import node_id
from graphmem.retrieve.loader import WriteScope
from graphmem.store import GraphStore, Statement
from graphmem.timezones import zone, zone_name

__all__ = ["settings_id", "stored_timezone", "namespace_zone", "timezone_in_force", "set_timezone_statements", "settings_problems"]


def settings_id(namespace: str) -> str:
    """The id of ``namespace``'s settings node."""
    return node_id(namespace, "namespacesettings")


def stored_timezone(store: GraphStore, namespace: str) -> str | None:
    """The time zone stored with ``namespace`` (``None``: none was set, or it was cleared)."""
    rows = store.read("read/namespace_settings", {"namespace": namespace, "id": settings_id(namespace)})
    return rows[0].get("timezone") if rows else None


def namespace_zone(store: GraphStore, namespace: str, default: tzinfo | None) -> tzinfo | None:
    """The zone ``namespace``'s times are read and shown in: the stored one, else ``default``
    (``Settings.tz``).

    Raises:
        StorageError: the stored value is not a zone this machine knows (written by Cypher, or
            a zone newer than this machine's time zone data), naming it and how to set another.
    """
    name = stored_timezone(store, namespace)
    return default if name is None else _stored_zone(namespace, name)


def timezone_in_force(store: GraphStore, namespace: str, default: str) -> tuple[str, str | None]:
    """``(the zone in force, the stored one)`` of ``namespace`` by name, from one read: the stored
    zone, else ``default`` (``Settings.timezone``) as :func:`graphmem.timezones.zone_name` writes it;
    ``None`` for the second when none is stored.

    Raises:
        StorageError: as :func:`namespace_zone`.
    """
    name = stored_timezone(store, namespace)
    if name is None:
        return zone_name(default), None
    _stored_zone(namespace, name)
    return name, name


def _stored_zone(namespace: str, name: object) -> tzinfo | None:
    """The zone ``name`` stored with ``namespace`` names; a StorageError naming it when none."""
    problem = StorageError(f"namespace {namespace!r}: its stored time zone {name!r} is not a time zone this machine "
                           "knows; set another with Memory.set_timezone (graphmem timezone NAME)")
    if not isinstance(name, str):
        raise problem
    try:
        return zone(name)
    except ConfigurationError as exc:
        raise problem from exc


def settings_problems(store: GraphStore, namespace: str) -> dict[str, list[str]]:
    """``graphmem check``'s finding on the namespace's settings: a stored time zone this machine
    does not know (``namespace_settings_with_unknown_timezone``, every operation that reads or
    shows a time refuses it), and a settings node whose id is not the namespace's
    (``namespace_settings_with_a_wrong_id``: moved from another namespace, or a second one; the zone
    read is the node with the namespace's id, so such a node's zone silently does not apply)."""
    problems: dict[str, list[str]] = {}
    wrong = sorted(str(r["id"]) for r in store.read("check/namespace_settings_ids", {"namespace": namespace})
                   if r["id"] != settings_id(namespace))
    if wrong:  # (moved from another namespace, or a second node): its zone is not the one read
        problems["namespace_settings_with_a_wrong_id"] = wrong
    try:
        namespace_zone(store, namespace, None)
    except StorageError:
        problems["namespace_settings_with_unknown_timezone"] = [settings_id(namespace)]
    return problems


def set_timezone_statements(namespace: str, name: str | None) -> list[Statement]:
    """The transaction storing ``name`` (already :func:`graphmem.timezones.zone_name`'s) as ``namespace``'s zone,
    ``None`` removing it. Its change-marker bump logs no unit and no session: other processes'
    caches need nothing re-read (each operation reads the zone itself)."""
    at = datetime.now(timezone.utc).replace(tzinfo=None).isoformat()
    return [("write/set_namespace_settings", {"namespace": namespace,
                                              "rows": [{"id": settings_id(namespace), "timezone": name, "at": at}]}),
            bump(namespace, changed=(), scope=WriteScope(frozenset(), frozenset()))]
