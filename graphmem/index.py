"""Approximate nearest-neighbour indexes (hnswlib): derived caches of stored embeddings.

One index per namespace and unit kind, saved under the store's cache directory. A unit kind
of at most ``exact_limit`` vectors (``RetrievalConfig.exact_limit`` in a memory's caches, the
size up to which search scores every vector exactly anyway) keeps them in a numpy array and is searched exactly: an hnswlib index costs 2.7 MB resident
however few vectors it holds (its 65,536 label locks), four per namespace, which a server
serving many small namespaces kept for each of them.
A manifest records how many vectors it holds, the model and the namespace's change-marker
version it reflects (:mod:`graphmem.changes`); when the store holds a different number of
embeddings for that unit, is at another version, or files are missing or corrupt, the index
is rebuilt from the embeddings stored on the nodes.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections import Counter
from itertools import repeat
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from graphmem.errors import StorageError
from graphmem.signals import reraise_stop

__all__ = ["VectorIndex", "embedding_vector", "majority_dimension", "split_embeddings", "stored_vector"]

logger = logging.getLogger(__name__)


def split_embeddings(rows: list[dict[str, Any]], dimension: int) -> tuple[list[str], np.ndarray, list[str]]:
    """Of ``rows`` (each an ``id`` and an ``embedding``, as the embedding reads return them), the ids
    and float32 vectors of those that are vectors of ``dimension`` (see :func:`embedding_vector`),
    and the ids of the others: damage that ``graphmem check`` names, and that an index rebuild
    leaves out instead of failing every search."""
    if not rows:
        return [], np.zeros((0, dimension), np.float32), []
    try:  # all sound: one conversion (a namespace of 100,000 turns)
        vectors = np.asarray([r["embedding"] for r in rows], dtype=np.float32)
        if vectors.shape == (len(rows), dimension) and np.isfinite(vectors).all() and vectors.any(axis=1).all() \
                and _numbers_at_their_ends(rows):
            return [str(r["id"]) for r in rows], vectors, []
    except (TypeError, ValueError):  # lists of several lengths, or values that are no numbers
        pass
    ids, kept, bad = [], [], []
    for r in rows:
        vector = embedding_vector(r["embedding"], dimension)
        if vector is None:
            bad.append(str(r["id"]))
        else:
            ids.append(str(r["id"]))
            kept.append(vector)
    return ids, np.stack(kept) if kept else np.zeros((0, dimension), np.float32), bad


def _numbers_at_their_ends(rows: list[dict[str, Any]]) -> bool:
    """Whether every row's embedding starts and ends with a number: the float32 conversion also takes
    true/false and numeric text (a vector of them passed the check, while :func:`embedding_vector`,
    which the writes read with, refuses it). A stored list holds one type, so its ends tell."""
    for row in rows:
        value = row["embedding"]
        for item in (value[0], value[-1]):
            if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, float, np.number)):
                return False
    return True


def majority_dimension(rows: list[dict[str, Any]]) -> int:
    """The embedding length most of ``rows`` (each with an ``embedding``) have; 0 without any."""
    lengths = Counter(len(r["embedding"]) for r in rows if not isinstance(r["embedding"], str) and hasattr(r["embedding"], "__len__"))
    return lengths.most_common(1)[0][0] if lengths else 0


def embedding_vector(value: Any, dimension: int) -> np.ndarray | None:
    """``value`` as a float32 vector when it is ``dimension`` finite numbers, not all zero; else ``None``."""
    try:
        vector = np.asarray(value)
    except (TypeError, ValueError):
        return None
    if vector.dtype.kind not in "fiu" or vector.shape != (dimension,):
        return None
    vector = vector.astype(np.float32)
    return vector if np.isfinite(vector).all() and vector.any() else None


def stored_vector(value: Any, owner: str, dimension: int | None = None) -> np.ndarray:
    """A stored embedding that a write computes from (an episode's or a session's mean), as a float32
    vector; raises :class:`~graphmem.errors.StorageError` naming ``owner`` when it is malformed (not
    ``dimension`` finite numbers, not all zero; any length when ``dimension`` is ``None``), so that
    the write changes nothing instead of failing deep in numpy or spreading the damage."""
    vector = embedding_vector(value, dimension if dimension is not None else _length(value))
    if vector is None:
        raise StorageError(f"{owner}: its stored embedding is missing or malformed (expected {dimension or 'a vector of'} "
                           "finite numbers, not all zero); nothing was written. graphmem check names such damage; correct or "
                           "forget that message to repair it")
    return vector


def _length(value: Any) -> int:
    return len(value) if isinstance(value, (list, tuple, np.ndarray)) and len(value) else -1


def hnswlib_normalised(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length exactly as hnswlib's cosine space scales what it is given
    (float32, the squares summed in order, ``1 / (sqrt + 1e-30)``): the vectors an index kept
    without hnswlib are, bit for bit, those hnswlib would hold and hand back, so exact scores
    over them are unchanged."""
    rows = np.asarray(vectors, dtype=np.float32)
    if not rows.size:
        return rows.copy()
    squares = np.cumsum(rows * rows, axis=1, dtype=np.float32)[:, -1]  # (cumsum adds in order; sum pairs them)
    inverse = np.float32(1.0) / (np.sqrt(squares) + np.float32(1e-30))
    return rows * inverse[:, None]


class VectorIndex:
    """A cosine index mapping node ids to vectors: hnswlib, or exact over a numpy array while small.

    Args:
        directory: where ``<name>.<unique>.hnsw`` (or ``.npy``) and ``<name>.json`` live.
        name: the unit kind, e.g. ``"turn"``.
        dimension: vector length.
        m, ef_construction, ef: hnswlib parameters.
        exact_limit: while the index has at most this many positions, its vectors are kept in a
            numpy array (as hnswlib would hold them, see :func:`hnswlib_normalised`) and
            searched exactly; past it, in hnswlib. 0 (the default): always hnswlib.
    """

    def __init__(self, directory: Path, name: str, dimension: int, *, m: int = 16, ef_construction: int = 200, ef: int = 64,
                 exact_limit: int = 0) -> None:
        self.directory = Path(directory)
        self.name = name
        self.dimension = dimension
        self.m, self.ef_construction, self.ef = m, ef_construction, ef
        self.exact_limit = exact_limit
        self._index: Any = None  # the hnswlib index (None: none, or the vectors are in _data)
        # the vectors by position while the index is small (exact_limit); None in hnswlib mode
        self._data: np.ndarray | None = None
        # position = hnswlib label; ``None`` where a removed id was (marked deleted in hnswlib)
        self._ids: list[str | None] = []
        self._labels: dict[str, int] = {}
        self._lock = threading.RLock()
        # a copy of hnswlib's vectors by label, filled by vectors() (see MIRROR_LIMIT); a row is
        # used only while ``_mirrored`` says it still holds what hnswlib holds at that label
        self._mirror: np.ndarray | None = None
        self._mirrored: np.ndarray | None = None
        self.model = ""
        #: the change-marker version the vectors reflect (``None``: unknown), saved in the manifest
        self.version: int | None = None
        #: the change marker's epoch at that version (see :func:`graphmem.changes.read_marker`)
        self.epoch: str | None = None

    @property
    def _manifest(self) -> Path:
        return self.directory / f"{self.name}.json"

    def __len__(self) -> int:
        return len(self._labels)

    @property
    def uses_hnswlib(self) -> bool:
        """Whether the vectors are held in an hnswlib index (False: none yet, or a numpy array
        searched exactly, see ``exact_limit``)."""
        return self._index is not None

    def _small(self, positions: int) -> bool:
        return positions <= self.exact_limit

    def _keep(self, data: np.ndarray, capacity: int = 0) -> None:
        """Hold ``data`` (normalised rows, one per position of ``_ids``) in the mode their number
        (or ``capacity``, the positions about to be) calls for: an hnswlib index is built from them
        past ``exact_limit`` positions (the removed positions marked deleted)."""
        self._mirror = self._mirrored = None
        if self._small(max(len(data), capacity)):
            self._index, self._data = None, np.ascontiguousarray(data, dtype=np.float32)
            return
        index = self._new(max(len(data), capacity))
        if len(data):
            index.add_items(data, np.arange(len(data)))
        for label in (i for i, node in enumerate(self._ids) if node is None):
            _mark_deleted(index, label)
        self._index, self._data = index, None

    def _new(self, capacity: int):
        import hnswlib

        index = hnswlib.Index(space="cosine", dim=self.dimension)
        index.init_index(max_elements=max(capacity, 16), ef_construction=self.ef_construction, M=self.m, random_seed=100)
        index.set_ef(self.ef)
        return index

    def load_or_rebuild(self, expected_count: int, model: str, fetch: Callable[[], tuple[Sequence[str], np.ndarray]],
                        version: int | None = None, epoch: str | None = None) -> str:
        """Load the saved index if it matches ``expected_count``, ``model`` and (when given)
        ``version``, else rebuild.

        Args:
            expected_count: how many embeddings the store holds for this unit.
            model: the embedding model setting (an index of another model is stale).
            fetch: returns ``(ids, vectors)`` from the store, called only to rebuild.
            version: the namespace's change-marker version read before ``expected_count``;
                a saved index of another version is stale (the same count can hide a
                replaced vector), and a rebuilt one is saved as of it. A negative version
                (the caller's own commits are not numbered yet) takes no saved index.
            epoch: the marker's epoch at ``version``, saved with a rebuilt index.

        Returns:
            ``"loaded"``, ``"rebuilt"`` or ``"empty"``.
        """
        with self._lock:
            if self._try_load(expected_count, model, version, epoch):
                return "loaded"
            ids, vectors = fetch()
            # a negative version asks for a rebuild; it is no version to save the index at
            self.model, self.version, self.epoch = model, version if version is None or version >= 0 else None, epoch
            self._index, self._data, self._ids, self._labels = None, None, [], {}
            self._mirror = self._mirrored = None
            if len(ids):
                self.add(ids, vectors)
                self.save()
                logger.info("rebuilt %s index from %d stored embeddings in %s", self.name, len(ids), self.directory)
                return "rebuilt"
            self.save()
            return "empty"

    def load_saved(self, model: str, version: int, epoch: str) -> bool:
        """Load the saved index when it was saved at ``version`` of the change marker of
        ``epoch`` (and of ``model``), without the store's count: every write bumps the marker,
        so nothing was written since. Returns False (nothing loaded) otherwise."""
        with self._lock:
            return self._try_load(None, model, version, epoch)

    def _try_load(self, expected_count: int | None, model: str, version: int | None = None, epoch: str | None = None) -> bool:
        """Load the saved index if it matches; ``expected_count`` ``None`` trusts the count
        when ``epoch`` and ``version`` match the manifest's."""
        if not self._manifest.exists():
            if expected_count:
                logger.info("%s index missing in %s; rebuilding", self.name, self.directory)
            return False
        try:
            manifest = json.loads(self._manifest.read_text(encoding="utf-8"))
            ids = manifest["ids"]
            if version is not None and (version < 0 or manifest.get("version") != version):
                logger.info("%s index saved at change %s, wanted at %s; rebuilding", self.name, manifest.get("version"),
                            version if version >= 0 else "the store's (after own commits)")
                return False
            saved_epoch = manifest.get("epoch")
            if epoch is not None and saved_epoch is not None and saved_epoch != epoch:
                logger.info("%s index saved under another change marker (the namespace was written anew); rebuilding", self.name)
                return False
            if expected_count is None and (epoch is None or version is None or saved_epoch != epoch):
                return False
            live = sum(node is not None for node in ids)
            if expected_count is None:
                expected_count = live
            if not live:
                if expected_count == 0 and manifest.get("model") == model:
                    self.model, self.version, self.epoch = model, manifest.get("version"), manifest.get("epoch")
                    self._index, self._data, self._ids, self._labels = None, None, [], {}
                    self._mirror = self._mirrored = None
                    return True
                return False
            if manifest.get("model") != model or manifest.get("dimension") != self.dimension or live != expected_count:
                logger.info("%s index stale (%d ids, store has %d); rebuilding", self.name, live, expected_count)
                return False
            if not manifest.get("bin"):
                logger.info("%s index manifest has no index file; rebuilding", self.name)
                return False
            index, data = self._read_saved(self.directory / manifest["bin"], ids)
            if index is None and data is None:
                return False
        except Exception as exc:  # any unreadable cache is rebuilt from the source of truth
            reraise_stop(exc)
            logger.warning("%s index unreadable in %s; rebuilding", self.name, self.directory, exc_info=True)
            return False
        self._ids = list(ids)
        self._labels = {node_id: i for i, node_id in enumerate(self._ids) if node_id is not None}
        if data is not None:
            self._keep(data)
        else:
            self._index, self._data = index, None
            self._mirror = self._mirrored = None
        self.model, self.version, self.epoch = model, manifest.get("version"), manifest.get("epoch")
        return True

    def _read_saved(self, path: Path, ids: Sequence[str | None]) -> tuple[Any, np.ndarray | None]:
        """The saved index at ``path``: ``(hnswlib index, None)`` when it stays one, else
        ``(None, vectors by position)``; ``(None, None)`` when it disagrees with ``ids``."""
        if path.suffix == ".npy":
            data = np.load(path, allow_pickle=False)
            if data.dtype != np.float32 or data.shape != (len(ids), self.dimension):
                logger.warning("%s index file disagrees with its manifest; rebuilding", self.name)
                return None, None
            return None, data
        import hnswlib

        index = hnswlib.Index(space="cosine", dim=self.dimension)
        index.load_index(str(path), max_elements=max(len(ids), 16))
        if index.get_current_count() != len(ids):
            logger.warning("%s index file disagrees with its manifest; rebuilding", self.name)
            return None, None
        if self._small(len(ids)):  # (saved by a process that kept it in hnswlib): its vectors, as hnswlib holds them
            data = np.tile(_blank(self.dimension), (len(ids), 1))
            live = [i for i, node in enumerate(ids) if node is not None]
            if live:
                data[live] = np.asarray(index.get_items(live), dtype=np.float32).reshape(len(live), self.dimension)
            return None, data
        for label in (i for i, node in enumerate(ids) if node is None):
            _mark_deleted(index, label)
        index.set_ef(self.ef)
        return index, None

    def add(self, ids: Sequence[str], vectors: np.ndarray, *, replace: bool = False) -> int:
        """Add vectors for ids not yet indexed; returns how many were added.

        With ``replace``, vectors of ids already indexed are overwritten in place
        (derived units such as sessions change when they grow).
        """
        with self._lock:
            if replace:
                known = [(i, self._labels[node_id]) for i, node_id in enumerate(ids) if node_id in self._labels]
                if known:
                    replaced = np.asarray(vectors, dtype=np.float32)[[i for i, _ in known]]
                    if self._data is not None:
                        self._data[[label for _, label in known]] = hnswlib_normalised(replaced)
                    else:
                        self._index.add_items(replaced, np.array([label for _, label in known]))
                        self._unmirror([label for _, label in known])
            fresh = [(i, node_id) for i, node_id in enumerate(ids) if node_id not in self._labels]
            if not fresh:
                return 0
            rows = np.asarray(vectors, dtype=np.float32)[[i for i, _ in fresh]]
            needed = len(self._ids) + len(fresh)
            start = len(self._ids)
            if self._index is None and self._small(needed):
                if self._data is None or len(self._data) < needed:
                    grown = np.zeros((max(needed, int(len(self._data) * 1.5) if self._data is not None else 0, 16), self.dimension),
                                     dtype=np.float32)
                    if self._data is not None:
                        grown[:start] = self._data[:start]
                    self._data = grown
                self._data[start:needed] = hnswlib_normalised(rows)
                for label, (_, node_id) in zip(range(start, needed), fresh):
                    self._ids.append(node_id)
                    self._labels[node_id] = label
                return len(fresh)
            if self._index is None:
                if self._data is not None:  # outgrown: into hnswlib, with the vectors it holds already
                    self._keep(self._data[:start], needed)
                else:
                    self._index = self._new(needed)
                    self._mirror = self._mirrored = None
            if needed > self._index.get_max_elements():
                self._index.resize_index(max(needed, int(self._index.get_max_elements() * 1.5)))
            labels = np.arange(start, start + len(fresh))
            self._index.add_items(rows, labels)
            for label, (_, node_id) in zip(labels, fresh):
                self._ids.append(node_id)
                self._labels[node_id] = int(label)
            return len(fresh)

    def remove(self, ids: Sequence[str]) -> int:
        """Take ``ids`` out of the index (those not in it are ignored); returns how many were.

        hnswlib marks them deleted: queries never return them, and the manifest lists ``null``
        at their positions, so the index matches the store's count again (a correction
        replaces a turn's events, whose old ids are gone from the store). Their vectors are
        overwritten first (hnswlib keeps a deleted element's data until :meth:`compact`), so
        neither this index nor a file it is saved to keeps a forgotten unit's embedding."""
        with self._lock:
            labels = [label for label in (self._labels.pop(node_id, None) for node_id in dict.fromkeys(ids)) if label is not None]
            if not labels:
                return 0
            blank = np.tile(_blank(self.dimension), (len(labels), 1))
            if self._data is not None:
                self._data[labels] = blank
            else:
                self._index.add_items(blank, np.asarray(labels))  # an indexed label: updated in place
                self._unmirror(labels)
                for label in labels:
                    _mark_deleted(self._index, label)
            for label in labels:
                self._ids[label] = None
        return len(labels)

    def save(self) -> None:
        """Write the index, then its manifest, each atomically (unique temp file, then rename).

        The index goes to a fresh file named in the manifest, and the manifest is replaced
        last, so concurrent writers never pair one writer's index with another's ids; a
        reader that loses a race finds a missing file and rebuilds from the store. An index
        holding many removed units is compacted first (:meth:`compact`).
        """
        with self._lock:
            self.compact()
            self.directory.mkdir(parents=True, exist_ok=True)
            unique = f"{os.getpid()}-{threading.get_ident()}-{uuid.uuid4().hex[:8]}"
            previous = self._manifest_bin()
            bin_name = None
            if self._index is not None:
                bin_name = f"{self.name}.{unique}.hnsw"
                self._index.save_index(str(self.directory / bin_name))
            elif self._data is not None and self._ids:
                bin_name = f"{self.name}.{unique}.npy"
                with open(self.directory / bin_name, "wb") as file:
                    np.save(file, self._data[: len(self._ids)], allow_pickle=False)
            tmp_manifest = self.directory / f"{self.name}.json.{unique}.tmp"
            tmp_manifest.write_text(json.dumps({"model": self.model, "dimension": self.dimension, "version": self.version,
                                                "epoch": self.epoch, "ids": self._ids, "bin": bin_name}),
                                    encoding="utf-8")
            os.replace(tmp_manifest, self._manifest)
            if previous and previous != bin_name:
                (self.directory / previous).unlink(missing_ok=True)

    def _manifest_bin(self) -> str | None:
        try:
            return json.loads(self._manifest.read_text(encoding="utf-8")).get("bin")
        except (OSError, ValueError, AttributeError):
            return None

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ``k`` nearest ids with cosine similarity, best first."""
        with self._lock:
            if not self._labels:
                return []
            k = min(k, len(self._labels))
            labels, distances = self._knn(np.asarray(vector, dtype=np.float32).reshape(1, -1), k)
        return [(self._ids[int(label)], float(1.0 - dist)) for label, dist in zip(labels[0], distances[0])]

    def query_arrays(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`query` for each row of ``vectors`` in one call (hnswlib searches them in
        parallel), as arrays: ids ``(n, k')`` (object) and cosine scores ``(n, k')`` (float32,
        ``1 - distance``), best first, with ``k' = min(k, len(self))`` (0 when empty)."""
        matrix = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        with self._lock:
            if not self._labels or not len(matrix):
                return np.empty((len(matrix), 0), dtype=object), np.empty((len(matrix), 0), dtype=np.float32)
            k = min(k, len(self._labels))
            labels, distances = self._knn(matrix, k)
            ids = self._ids
            found = np.empty(labels.size, dtype=object)
            found[:] = [ids[label] for label in labels.ravel().tolist()]
        return found.reshape(labels.shape), np.float32(1.0) - np.asarray(distances, dtype=np.float32)

    def _knn(self, matrix: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """hnswlib's query for ``k`` (at most the live units; hnswlib skips removed ones).

        Removed units stay in hnswlib's graph, and after many removals or replacements (a
        live memory following another writer's corrections, a forget) a search may reach
        fewer than ``k`` live ones: hnswlib then raises. The search is tried again with a
        wider beam, and at last done exactly over the live vectors. A small index (no hnswlib)
        is searched exactly."""
        if self._index is None:
            return self._exact_knn(matrix, k)
        ef = max(self.ef, k)
        for _ in range(RETRIES):
            self._index.set_ef(ef)
            try:
                return self._index.knn_query(matrix, k=k)
            except RuntimeError:  # "Cannot return the results in a contiguous 2D array"
                ef *= 4
        logger.info("%s index: hnswlib found fewer than %d live neighbours; searching exactly", self.name, k)
        return self._exact_knn(matrix, k)

    def _exact_knn(self, matrix: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Labels and cosine distances of the ``k`` nearest live units, as hnswlib returns them
        (ties in the order the units were indexed)."""
        labels = np.fromiter(self._labels.values(), dtype=np.uint64, count=len(self._labels))
        if self._data is not None:  # normalised as hnswlib normalises what it holds and its queries
            distances = np.float32(1.0) - hnswlib_normalised(matrix) @ self._data[labels.astype(np.int64)].T
        else:
            assert self._index is not None
            stored = np.asarray(self._index.get_items(labels.tolist()), dtype=np.float32)
            norms = np.linalg.norm(stored, axis=1, keepdims=True)
            queries = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
            distances = 1.0 - queries @ (stored / np.maximum(norms, 1e-12)).T
        if k < distances.shape[1]:  # the k best of each row, then those in order (a whole sort of 10,000 per row was slow)
            chosen = np.sort(np.argpartition(distances, k - 1, axis=1)[:, :k], axis=1)
            order = np.take_along_axis(chosen, np.argsort(np.take_along_axis(distances, chosen, axis=1), axis=1, kind="stable"), axis=1)
        else:
            order = np.argsort(distances, axis=1, kind="stable")
        return labels[order], np.take_along_axis(distances, order, axis=1).astype(np.float32)

    def compact(self) -> int:
        """Rebuild the hnswlib index from the live vectors when removed ones hold more than
        :data:`COMPACT_FRACTION` of its positions; returns how many positions were dropped."""
        with self._lock:
            dead = len(self._ids) - len(self._labels)
            if (self._index is None and self._data is None) or not dead or dead <= COMPACT_FRACTION * len(self._ids):
                return 0
            live = [node for node in self._ids if node is not None]
            vectors = self.vectors(live) if live else np.zeros((0, self.dimension), np.float32)
            self._index, self._data, self._ids, self._labels = None, None, [], {}
            self._mirror = self._mirrored = None
            if live:
                self.add(live, vectors)
            return dead

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of ``ids`` (all must be indexed), as hnswlib holds them.

        An index of at most :data:`MIRROR_LIMIT` positions keeps a copy of the vectors it has
        handed out, and asks hnswlib only for those added or replaced since: its ``get_items``
        takes about 21 ms per 1,000 vectors (0.26 s per 10,000), and the exact scorers of a
        search right after an add read every vector of their unit kind."""
        with self._lock:
            return self._vectors_of(np.fromiter((self._labels[i] for i in ids), dtype=np.int64, count=len(ids)))

    def matrix(self, ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Which of ``ids`` are indexed (a boolean each), and their vectors in that order with a
        zero row for each one that is not: what an exact scorer takes at every search right
        after a write, in one lookup per id (asking :meth:`contains` and then :meth:`vectors`
        looked each id up twice, in Python)."""
        with self._lock:
            labels = np.fromiter(map(self._labels.get, ids, repeat(-1)), dtype=np.int64, count=len(ids))
            present = labels >= 0
            matrix = np.zeros((len(ids), self.dimension), dtype=np.float32)
            if present.any():
                matrix[present] = self._vectors_of(labels[present])
            return present, matrix

    def _vectors_of(self, labels: np.ndarray) -> np.ndarray:
        """The vectors at hnswlib ``labels`` (the caller holds the lock): see :meth:`vectors`."""
        if self._data is not None:
            return self._data[labels]
        if len(self._ids) > MIRROR_LIMIT:
            self._mirror = self._mirrored = None
            return self._items(labels)
        if self._mirror is None or self._mirrored is None or len(self._mirror) < len(self._ids):
            size = max(len(self._ids), min(MIRROR_LIMIT, int(1.25 * len(self._mirror))) if self._mirror is not None else 0)
            mirror = np.zeros((size, self.dimension), dtype=np.float32)
            mirrored = np.zeros(size, dtype=bool)
            if self._mirror is not None and self._mirrored is not None:
                mirror[: len(self._mirror)] = self._mirror
                mirrored[: len(self._mirrored)] = self._mirrored
            self._mirror, self._mirrored = mirror, mirrored
        missing = np.unique(labels[~self._mirrored[labels]])
        if len(missing):
            self._mirror[missing] = self._items(missing)
            self._mirrored[missing] = True
        return self._mirror[labels]

    def _items(self, labels: np.ndarray) -> np.ndarray:
        if self._data is not None:
            return self._data[labels]
        assert self._index is not None
        return np.asarray(self._index.get_items(labels.tolist()), dtype=np.float32).reshape(len(labels), self.dimension)

    def _unmirror(self, labels: Sequence[int]) -> None:
        """The mirror's rows of ``labels`` no longer hold hnswlib's vectors (replaced or blanked)."""
        if self._mirrored is not None:
            at = [label for label in labels if label < len(self._mirrored)]
            self._mirrored[at] = False

    def contains(self, node_id: str) -> bool:
        """True when ``node_id`` is indexed."""
        return node_id in self._labels


RETRIES = 3
"""hnswlib searches for ``k`` live neighbours, each with a beam four times wider, before an exact one."""

MIRROR_LIMIT = 20_000
"""Most positions an index mirrors the vectors of (see :meth:`VectorIndex.vectors`): at most
30 MB per unit kind of 384-d vectors, and the exact scorers read whole indexes only up to
``RetrievalConfig.exact_limit`` (10,000) units."""

COMPACT_FRACTION = 0.2
"""Removed units an index keeps (marked deleted) before saving rebuilds it from the live ones:
many deletions thin hnswlib's graph out, and their vectors are of no use."""


def _blank(dimension: int) -> np.ndarray:
    """The vector a removed unit's position holds: a unit vector (the cosine space cannot take zeros)."""
    blank = np.zeros(dimension, dtype=np.float32)
    blank[0] = 1.0
    return blank


def _mark_deleted(index: Any, label: int) -> None:
    """Mark ``label`` deleted in an hnswlib index (already marked: nothing to do)."""
    try:
        index.mark_deleted(label)
    except RuntimeError:  # hnswlib keeps deletions in the saved file: loading one marks them again
        pass
