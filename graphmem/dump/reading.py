"""Export side: the records of one or more namespaces, read from a store page by page.

Nodes are read label by label in pages ordered by id (the last id of a page is the next
page's cursor), so memory use does not grow with the memory's size. The relationships
leaving each page of nodes are read with it and spooled to a temporary file, then follow
all the nodes (an importer needs both ends of a relationship before the relationship).
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from graphmem.dump.format import encode_props
from graphmem.dump.graph import ID_KINDS, NODE_LABELS, RELATIONSHIPS, node_query
from graphmem.errors import StorageError
from graphmem.store import GraphStore

__all__ = ["iter_store_records", "iter_node_pages", "id_windows", "namespace_counts", "namespace_totals", "stored_dimension"]

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

#: above every id (ids are ASCII ``kind:hex``; U+FFFF is the highest UTF-16 code unit)
ID_CEILING = "\uffff" * 4

#: nodes per id window that export aims at (pages are sorted within a window only)
WINDOW_TARGET = 500


def id_windows(label: str, count: int, target: int = WINDOW_TARGET) -> list[tuple[str, str]]:
    """``(after, high]`` id ranges that together cover every non-empty id, about ``target`` of ``count`` nodes each.

    ArcadeDB sorts every node a paged ``ORDER BY n.id`` query matches before it cuts the page, so
    paging a whole label would cost a full sort per page; within a window, the unique id index
    finds the range and only the window is sorted. Ids are hashes (hex digits after ``kind:``),
    so windows split on those digits hold about the same number of nodes.
    """
    digits = 0
    while count / (16 ** digits) > target and digits < 4:
        digits += 1
    if digits == 0:
        return [("", ID_CEILING)]
    kind = ID_KINDS[label]
    bounds = ["", *(f"{kind}:{i:0{digits}x}" for i in range(1, 16 ** digits)), ID_CEILING]
    return list(zip(bounds, bounds[1:]))


def iter_node_pages(store: GraphStore, namespace: str, label: str, count: int, page_size: int) -> Iterator[list[dict[str, Any]]]:
    """Pages of ``{id, props}`` rows of the ``label`` nodes of ``namespace``, in id order.

    ``count`` is how many ``label`` nodes the namespace holds; the windows are sized by the
    store's count of them (every namespace's nodes lie in the same id index)."""
    if not count:
        return
    stored = int(store.read(node_query("count_all", label))[0]["count"])
    for after, high in id_windows(label, max(stored, count)):
        while True:
            rows = store.read(node_query("read_nodes", label), {"namespace": namespace, "after": after, "high": high,
                                                                "limit": page_size})
            if rows:
                yield rows
            if len(rows) < page_size:
                break
            after = rows[-1]["id"]


def namespace_counts(store: GraphStore, namespace: str) -> dict[str, int]:
    """Node counts per label of ``namespace``."""
    return {str(row["label"]): int(row["count"]) for row in store.read("read/count_nodes", {"namespace": namespace})}


def namespace_totals(store: GraphStore, namespaces: Sequence[str]) -> dict[str, int]:
    """Node counts per label over ``namespaces``; refuses labels a dump cannot carry.

    Raises:
        StorageError: a namespace holds nodes of a label outside the allow-list.
    """
    totals: dict[str, int] = {}
    for namespace in namespaces:
        for label, count in namespace_counts(store, namespace).items():
            if label not in NODE_LABELS:
                raise StorageError(f"namespace {namespace!r} holds {count} node(s) labelled {label!r}, which a dump cannot "
                                   f"carry (allowed: {', '.join(NODE_LABELS)}); nothing was exported")
            totals[label] = totals.get(label, 0) + count
    return totals


def stored_dimension(store: GraphStore, namespaces: Sequence[str]) -> int | None:
    """Length of the stored turn embeddings of the first namespace that has one (None: no turn)."""
    for namespace in namespaces:
        rows = store.read("forget/embedding_dimension", {"namespace": namespace})
        if rows:
            return int(rows[0]["dimension"])
    return None


def _relationship_record(label: str, row: dict[str, Any]) -> dict[str, Any]:
    rel_type, end_label = row["type"], row["end_label"]
    if rel_type not in RELATIONSHIPS or (label, end_label) not in RELATIONSHIPS[rel_type]:
        raise StorageError(f"a {rel_type!r} relationship from {label} {row['start']} to {end_label} {row['end']} is not one a "
                           "dump can carry; nothing was exported")
    return {"record": "relationship", "type": rel_type, "start_label": label, "start": row["start"],
            "end_label": end_label, "end": row["end"], "props": encode_props(row.get("props") or {})}


def _rel_sort_key(record: dict[str, Any]) -> tuple[str, str, str, str]:
    return record["start"], record["type"], record["end"], json.dumps(record["props"], sort_keys=True)


def iter_store_records(store: GraphStore, namespaces: Sequence[str], *, page_size: int = 1000,
                       progress: Progress | None = None, total: int | None = None) -> Iterator[dict[str, Any]]:
    """Every node, then every relationship, of ``namespaces`` as dump records, in a stable order.

    Relationships to nodes of other namespaces are left out (``graphmem check`` reports them).

    Args:
        store: the open store.
        namespaces: the namespaces to read.
        page_size: nodes per read.
        progress: ``progress("export", nodes done, total nodes)``.
        total: total nodes (for progress), e.g. from :func:`namespace_totals`.
    """
    done = 0
    with tempfile.TemporaryFile(prefix="graphmem-dump-rels-") as spool:
        spooled = 0
        for namespace in namespaces:
            counts = namespace_counts(store, namespace)
            for label in NODE_LABELS:
                if not counts.get(label):
                    continue
                read = 0
                for rows in iter_node_pages(store, namespace, label, counts[label], page_size):
                    read += len(rows)
                    for row in rows:
                        props = dict(row["props"])
                        props.pop("id", None)
                        yield {"record": "node", "label": label, "id": row["id"], "props": encode_props(props)}
                    ids = [row["id"] for row in rows]
                    rels = [_relationship_record(label, r) for r in
                            store.read(node_query("read_out", label), {"namespace": namespace, "ids": ids})]
                    rels.sort(key=_rel_sort_key)
                    for record in rels:
                        spool.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
                    spooled += len(rels)
                    done += len(rows)
                    if progress:
                        progress("export", done, total or done)
                if read != counts[label]:
                    raise StorageError(f"namespace {namespace!r} held {counts[label]} {label} node(s) but {read} were read: "
                                       "it changed during the export; export it again while nothing writes to it")
        logger.debug("exported %d nodes; %d relationships follow", done, spooled)
        spool.seek(0)
        for line in spool:
            yield json.loads(line)
