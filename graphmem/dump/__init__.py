"""Moving a memory: export to a dump file, import from one, or copy between stores.

A dump is gzip JSON Lines (:mod:`graphmem.dump.format`, ``schemas/dump.schema.json``):
a header (format version, graphmem version, embedding model and dimension, namespaces),
one record per node and per relationship with every property (embeddings included), and
a trailer with counts and a checksum. Export streams in pages; import reads the whole file
once to check it (nothing is written from a damaged file), then writes it in batches, each
in one transaction, merging on ids (importing twice changes nothing). The same code serves
the embedded store and Bolt, in both directions.

The derived caches of what was imported (ANN indexes, BM25, the retrieval projection) are
not copied: :class:`~graphmem.memory.Memory` deletes them after an import and they are
rebuilt from the store at the next search.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from graphmem.dump.format import DUMP_FORMAT, DumpHeader, DumpReader, DumpWriter, decode_props
from graphmem.dump.graph import NODE_LABELS, RELATIONSHIPS, node_query
from graphmem.dump.reading import iter_node_pages, iter_store_records, namespace_counts, namespace_totals, stored_dimension
from graphmem.dump.writing import RecordWriter, _Renaming, recompute_means
from graphmem.changes import marker_id
from graphmem.errors import ConfigurationError, InputError, StorageError
from graphmem.model_identity import ModelIdentity, holds_embeddings, identity_from, refuse_other_model, stored_identity
from graphmem.store import GraphStore

__all__ = ["DUMP_FORMAT", "NODE_LABELS", "RELATIONSHIPS", "DumpSummary", "DumpReader", "export_dump", "import_dump", "target_namespaces",
           "copy_namespaces", "make_header", "check_embeddings", "check_identities"]

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


@dataclass
class DumpSummary:
    """What an export, import or copy moved.

    Attributes:
        namespaces: the namespaces read (export) or written (import, copy).
        nodes, relationships: records moved.
        counts: per label and per relationship type (``"rel:TYPE"``).
        seconds: wall time (an import's includes checking the file first).
        path: the dump file, when there is one.
        reembedded: whether vectors were computed again with the current model.
    """

    namespaces: list[str]
    nodes: int = 0
    relationships: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    path: str | None = None
    reembedded: bool = False

    @property
    def nodes_per_second(self) -> float:
        """Nodes moved per second of wall time."""
        return self.nodes / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(asdict(self), seconds=round(self.seconds, 3), nodes_per_second=round(self.nodes_per_second, 1))


def make_header(namespaces: Sequence[str], embedding_model: str, dimension: int | None) -> dict[str, Any]:
    """The header fields of a dump of ``namespaces``."""
    from graphmem import __version__

    return {"format": DUMP_FORMAT, "graphmem_version": __version__, "embedding_model": embedding_model,
            "embedding_dimension": dimension, "namespaces": list(namespaces),
            "created_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat()}


def _marker_as_stored(store: GraphStore, namespace: str) -> tuple[object, object]:
    """A namespace's change marker's version and epoch as stored, unchecked (a version that is no whole
    number, damage check names, must not stop the export that rescues the memory): the export
    compares them before and after (:func:`graphmem.changes.read_marker` checks them)."""
    rows = store.read("read/change_marker", {"namespace": namespace, "id": marker_id(namespace)})
    return (rows[0].get("version"), rows[0].get("epoch")) if rows else (None, None)


def export_dump(store: GraphStore, path: str | os.PathLike[str], namespaces: Sequence[str], *, embedding_model: str,
                page_size: int = 1000, progress: Progress | None = None) -> DumpSummary:
    """Write every node and relationship of ``namespaces`` to the dump file ``path``.

    The file appears only when complete (written under a temporary name, then renamed), and only
    when no namespace was written to meanwhile: each one's change marker (version and epoch, as
    stored: a damaged one does not stop the export that rescues the memory) is read before and
    after, and a dump read across a write (a correction's old text beside its new events) is refused.

    Raises:
        StorageError: a namespace holds a label or relationship a dump cannot carry, a namespace was
            written to during the export (its change marker moved; no file is written), or the store failed.
        InputError: ``path`` cannot be written.
    """
    started = time.perf_counter()
    namespaces = list(dict.fromkeys(namespaces))
    markers = {namespace: _marker_as_stored(store, namespace) for namespace in namespaces}
    totals = namespace_totals(store, namespaces)
    header = make_header(namespaces, embedding_model, stored_dimension(store, namespaces))
    with DumpWriter(path, header) as writer:
        for record in iter_store_records(store, namespaces, page_size=page_size, progress=progress, total=sum(totals.values())):
            writer.write(record)
        for namespace, before in markers.items():  # (raised inside the writer: no file appears)
            if _marker_as_stored(store, namespace) != before:
                raise StorageError(f"namespace {namespace!r} was written to during the export (its change marker moved "
                                   f"from version {before[0]}): the dump would mix the memory before and after that "
                                   "write; nothing was exported: export it again while nothing writes to it")
    summary = DumpSummary(namespaces, writer.nodes, writer.relationships, dict(sorted(writer.counts.items())),
                          time.perf_counter() - started, str(path))
    logger.info("exported %d nodes and %d relationships of %s to %s in %.1f s", summary.nodes, summary.relationships,
                namespaces, path, summary.seconds)
    return summary


def check_embeddings(header: dict[str, Any], embedding_model: str, target_dimension: int | None, reembed: bool,
                     where: str) -> None:
    """Refuse vectors of another model or dimension unless they are to be re-embedded.

    Args:
        header: the dump's header.
        embedding_model: the importing memory's model setting.
        target_dimension: the dimension of vectors already in the target namespace (None: none there).
        reembed: vectors will be computed again with ``embedding_model``.
        where: the dump's name, for the message.

    Raises:
        ConfigurationError: model or dimension differ and ``reembed`` is false.
    """
    dimension = header.get("embedding_dimension")
    if reembed or dimension is None:
        return
    model = header.get("embedding_model")
    if model != embedding_model:
        raise ConfigurationError(
            f"{where} was embedded with {model!r} ({dimension} dimensions) but this memory uses {embedding_model!r}: "
            "its vectors cannot be searched with this model; import it with --reembed (reembed=True) to embed its "
            "texts again with the current model, or open the memory with the dump's model")
    if target_dimension is not None and target_dimension != dimension:
        raise ConfigurationError(f"{where} holds {dimension}-dimensional embeddings but the target namespace holds "
                                 f"{target_dimension}-dimensional ones; import it with --reembed (reembed=True)")


def check_identities(store: GraphStore, sources: Sequence[str], targets: Sequence[str],
                     carried: dict[str, ModelIdentity | None], identity: ModelIdentity, reembed: bool, where: str) -> None:
    """Refuse, before anything is written, vectors of another model than ``identity`` (the importing
    memory's) that the model's name alone does not tell apart (:mod:`graphmem.model_identity`): a source
    namespace whose carried identity is another model's, unless its texts are to be re-embedded, and a
    target namespace that holds another model's vectors (whatever is imported into it).

    Args:
        store: the target store.
        sources: the dump's (or copy's) namespaces, in the order of ``targets`` (the namespaces written).
        carried: source namespace -> the identity the dump (or source store) holds for it (absent or
            ``None``: none, and the header's model name is all there is).
        identity: the importing memory's model.
        reembed: the source's vectors will be computed again with that model.
        where: the dump's name (or the source store's), for the message.

    Raises:
        ConfigurationError: naming the namespace and both models.
    """
    for source, target in zip(sources, targets):
        if not reembed:
            refuse_other_model(source, carried.get(source), identity, where=f"{where}: ",
                               remedy="import it with --reembed (reembed=True) to embed its texts again with this "
                                      "model, or open the memory with the dump's model")
        if holds_embeddings(store, target):
            refuse_other_model(target, stored_identity(store, target), identity,
                               remedy="import into another namespace (--namespace), or open the memory with the "
                                      "namespace's model")


def target_namespaces(header: DumpHeader, namespace: str | None, where: str) -> list[str]:
    """The namespaces a dump (or copy) of ``header`` is written into: its own, or ``namespace``.

    Raises:
        ConfigurationError: a new name for a dump of several namespaces.
    """
    if namespace is None:
        return header.namespaces
    if len(header.namespaces) != 1:
        raise ConfigurationError(f"{where} holds {len(header.namespaces)} namespaces ({', '.join(header.namespaces)}); "
                                 "a new namespace name applies to a dump of one namespace only")
    return [namespace]


def import_dump(store: GraphStore, path: str | os.PathLike[str], *, embedding_model: str, embed: Callable[[list[str]], Any] | None = None,
                namespace: str | None = None, reembed: bool = False, batch_size: int = 2000,
                progress: Progress | None = None, identity: ModelIdentity | None = None) -> DumpSummary:
    """Check the whole dump ``path``, then write it into ``store``.

    Args:
        store: the target store.
        path: the dump file.
        embedding_model: the importing memory's model setting (compared with the dump's).
        embed: ``embed(texts) -> vectors`` with the current model (needed with ``reembed``).
        namespace: write everything into this namespace (a dump of one namespace only).
        reembed: compute turn and event vectors again with ``embed`` (then episode and
            session means); required when the dump's model or dimension differ.
        batch_size: rows per transaction.
        progress: ``progress(stage, done, total)`` with stages ``check`` and ``import``.
        identity: the importing memory's model (:mod:`graphmem.model_identity`), compared with the
            identities the dump's namespaces carry and the target namespaces hold (``None``: not compared).

    Returns:
        A :class:`DumpSummary` of what was written.

    Raises:
        InputError: the file is damaged, truncated, edited or not a dump, or one of its turns would take
            the position of another turn stored in the target namespace (nothing written).
        ConfigurationError: another embedding model or dimension without ``reembed`` (by name, or by
            the identity a namespace carries), a target namespace holding another model's vectors
            (see :func:`check_identities`), or a rename of a dump with several namespaces (nothing written).
        StorageError: the store failed (batches already committed stay; importing again completes it).
    """
    started = time.perf_counter()
    reader = DumpReader(path)
    checked = 0
    ids: dict[str, dict[str, tuple[str, int]]] = {}  # label -> node id -> (its namespace, line)
    positions: _Positions | None = None  # made at the first node: the header (its namespace) is read by then
    first_texts: dict[str, tuple[Any, Any, Any]] = {}  # a rename's corrected turns: old id -> their first text
    carried: dict[str, ModelIdentity | None] = {}  # the dump's namespace -> the model identity it carries
    for number, record in reader.records():  # the whole file first: a damaged dump writes nothing
        checked += 1
        if record.get("record") == "node":
            if record["label"] == "NamespaceSettings":
                carried[record["props"]["namespace"]] = identity_from(decode_props(record["props"]))
            if namespace is None:
                ids.setdefault(record["label"], {})[record["id"]] = (record["props"]["namespace"], number)
            if positions is None:
                assert reader.header is not None
                positions = _Positions(store, namespace if namespace != reader.header.namespaces[0] else None, first_texts)
            if record["label"] == "Turn":
                positions.add(record["id"], record["props"], f"line {number}")
            elif record["label"] == "TurnVersion":
                positions.note_version(record["props"])
        if progress and checked % 10_000 == 0:
            progress("check", checked, checked)
    header = reader.header
    assert header is not None
    targets = target_namespaces(header, namespace, str(path))
    if namespace == header.namespaces[0]:
        namespace = None  # its own name: nothing to rename
        ids = {}  # (renamed to its own name: every id is read again as the dump's namespace's)
    _refuse_moves(store, ids, str(path), batch_size)
    if positions is not None:
        positions.refuse_taken(str(path), batch_size)
    check_embeddings(header, embedding_model, stored_dimension(store, targets), reembed, str(path))
    if identity is not None:
        check_identities(store, header.namespaces, targets, carried, identity, reembed, str(path))
    if reembed and embed is None:
        raise ConfigurationError("re-embedding needs the current embedding model")
    writer = RecordWriter(store, batch_size, namespace=namespace, embed=embed if reembed else None, progress=progress,
                          total=checked, first_texts=first_texts)
    writer.add_all(record for _, record in reader.records())
    if reembed:
        for target in sorted(writer.namespaces):
            recompute_means(store, target, batch_size)
    summary = DumpSummary(sorted(writer.namespaces) or targets, writer.nodes, writer.relationships,
                          dict(sorted(writer.counts.items())), time.perf_counter() - started, str(path), reembed)
    logger.info("imported %d nodes and %d relationships from %s into %s in %.1f s", summary.nodes, summary.relationships,
                path, summary.namespaces, summary.seconds)
    return summary


def _refuse_moves(store: GraphStore, ids: dict[str, dict[str, tuple[str, int]]], path: str, batch_size: int) -> None:
    """Refuse a dump one of whose nodes is stored in another namespace: importing merges on ids, so
    it would take that node out of its namespace (ids are namespaced hashes: only an edited or
    hand-made dump can name one). Reads only; raises :class:`InputError` naming the line."""
    for label, owned in sorted(ids.items()):
        names = sorted(owned)
        for start in range(0, len(names), batch_size):
            for row in store.read(node_query("owners", label), {"ids": names[start:start + batch_size]}):
                namespace, number = owned[row["id"]]
                if row.get("namespace") != namespace:
                    raise InputError(f"{path}: line {number}: {label} {row['id']} is stored in namespace "
                                     f"{row.get('namespace')!r}, and the dump puts it in {namespace!r}: a dump cannot move "
                                     "a node between namespaces; nothing was imported")


class _Positions:
    """The positions (``Turn.slot``, unique in the store) the turns of a dump or copy will take, to
    refuse before writing anything one that another stored turn holds: the namespace holds another
    conversation under the same key (another turn at the same place), and the write would fail on
    the store's constraint half way, after earlier batches committed, the same at every retry.

    Only target namespaces that hold turns can hold a taken position (a slot is a hash of the
    namespace, the conversation key and the position), so nothing is kept for the others."""

    def __init__(self, store: GraphStore, namespace: str | None, first_texts: dict[str, tuple[Any, Any, Any]]) -> None:
        self.store = store
        self._rename = _Renaming(namespace, first_texts) if namespace is not None else None
        self._occupied: dict[str, bool] = {}  # target namespace -> it holds turns
        self._turns: dict[str, tuple[str, str]] = {}  # slot -> (the turn's (old) id, where in the dump)
        self._later: dict[str, dict[str, Any]] = {}  # old id -> recipe props of a turn renamed once its versions are read

    def note_version(self, props: dict[str, Any]) -> None:
        """Note a ``TurnVersion`` of the dump (a renamed corrected turn's id is the recipe of its first text)."""
        if self._rename is not None:
            self._rename.note_version(props)

    def add(self, turn_id: str, props: dict[str, Any], where: str) -> None:
        """Note the dump's turn ``turn_id`` (with its dump ``props``, id left out) found at ``where``."""
        renamed = self._rename.node("Turn", turn_id, props)[1] if self._rename is not None else props
        slot, namespace = renamed.get("slot"), renamed.get("namespace")
        if not isinstance(slot, str) or not isinstance(namespace, str):
            return  # a turn written before positions were kept: no constraint to meet
        if namespace not in self._occupied:
            self._occupied[namespace] = namespace_counts(self.store, namespace).get("Turn", 0) > 0
        if not self._occupied[namespace]:
            return
        self._turns[slot] = (turn_id, where)
        if self._rename is not None and not self._rename.knows(turn_id):  # perhaps corrected: its first text comes later
            self._later[turn_id] = {k: v for k, v in props.items() if k != "embedding"}

    def _target_id(self, turn_id: str) -> str:
        if self._rename is None:
            return turn_id
        if turn_id in self._later:  # its props again, now with the first texts: the id the writer will give it
            return self._rename.node("Turn", turn_id, self._later[turn_id])[0]
        return self._rename(turn_id)

    def refuse_taken(self, source: str, batch_size: int) -> None:
        """Raise :class:`InputError` naming the first dump turn whose position another stored turn holds."""
        slots = sorted(self._turns)
        for start in range(0, len(slots), batch_size):
            for row in self.store.read("transfer/slot_holders_turn", {"slots": slots[start:start + batch_size]}):
                old, where = self._turns[row["slot"]]
                turn_id = self._target_id(old)
                if row["id"] != turn_id:
                    raise InputError(
                        f"{source}: {where}: turn {turn_id} of conversation {row.get('conversation')!r} (position "
                        f"{row.get('seq')}) takes the place of another turn, {row['id']}, that namespace "
                        f"{row.get('namespace')!r} holds there: the namespace holds another conversation under the key "
                        f"{row.get('conversation')!r}; import into another namespace (--namespace), or drop the "
                        "namespace (or forget that conversation) first; nothing was imported")


def copy_namespaces(source: GraphStore, target: GraphStore, namespaces: Sequence[str], *, embedding_model: str,
                    namespace: str | None = None, page_size: int = 1000, batch_size: int = 2000,
                    progress: Progress | None = None, identity: ModelIdentity | None = None) -> DumpSummary:
    """Export ``namespaces`` of ``source`` straight into ``target``, with no file in between.

    With ``identity`` (the target memory's model), the identities the source namespaces hold and
    the target namespaces' are compared with it first (:func:`check_identities`).

    The records are written as they are read (no checking pass is needed: they come from a
    store, not a file), so memory stays bounded by one page and one batch. Only where a target
    namespace holds turns already are the source's turns read first, to refuse (:class:`InputError`,
    nothing written) one that would take the position of another stored turn.
    """
    started = time.perf_counter()
    namespaces = list(dict.fromkeys(namespaces))
    totals = namespace_totals(source, namespaces)
    header = DumpHeader(make_header(namespaces, embedding_model, stored_dimension(source, namespaces)))
    targets = target_namespaces(header, namespace, f"copy of {', '.join(namespaces)}")
    if namespace == namespaces[0]:
        namespace = None  # its own name: nothing to rename
    check_embeddings(header, embedding_model, stored_dimension(target, targets), False, f"{source.describe()}")
    if identity is not None:
        check_identities(target, namespaces, targets, {name: stored_identity(source, name) for name in namespaces},
                         identity, False, source.describe())
    first_texts: dict[str, tuple[Any, Any, Any]] = {}  # a rename's corrected turns: old id -> their first text
    positions = _Positions(target, namespace, first_texts)
    for name in namespaces if namespace is not None else ():  # read before their turns are renamed
        count = namespace_counts(source, name).get("TurnVersion", 0)
        for rows in iter_node_pages(source, name, "TurnVersion", count, page_size):
            for row in rows:
                positions.note_version(row["props"])
    for name in namespaces:  # the positions the turns will take, before anything is written
        count = namespace_counts(source, name).get("Turn", 0)
        if count and namespace_counts(target, targets[0] if namespace is not None else name).get("Turn", 0):
            for rows in iter_node_pages(source, name, "Turn", count, page_size):
                for row in rows:
                    positions.add(row["id"], {k: v for k, v in row["props"].items() if k not in ("id", "embedding")},
                                  f"namespace {name!r}")
    positions.refuse_taken(f"copy of {', '.join(namespaces)}", batch_size)
    writer = RecordWriter(target, batch_size, namespace=namespace, progress=progress, total=sum(totals.values()),
                          first_texts=first_texts)
    writer.add_all(iter_store_records(source, namespaces, page_size=page_size))
    summary = DumpSummary(sorted(writer.namespaces) or targets, writer.nodes, writer.relationships,
                          dict(sorted(writer.counts.items())), time.perf_counter() - started)
    logger.info("copied %d nodes and %d relationships from %s to %s in %.1f s", summary.nodes, summary.relationships,
                source.describe(), target.describe(), summary.seconds)
    return summary

