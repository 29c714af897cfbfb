"""The dump file: gzip JSON Lines, one record per line, checked line by line and as a whole.

Layout (documented in ``schemas/dump.schema.json``)::

    {"record": "header", "format": "graphmem.dump/1", "graphmem_version": ..., "embedding_model": ...,
     "embedding_dimension": 384, "namespaces": [...], "created_at": ..., "crc32": "..."}
    {"record": "node", "label": "Turn", "id": "turn:...", "props": {...}, "crc32": "..."}        (every node)
    {"record": "relationship", "type": "IN", "start_label": "Turn", "start": "turn:...",
     "end_label": "Session", "end": "session:...", "props": {...}, "crc32": "..."}              (every relationship)
    {"record": "trailer", "nodes": N, "relationships": M, "counts": {...}, "lines": L, "sha256": "...", "crc32": "..."}

Every line ends with ``"crc32"``: the CRC-32 of the line's bytes before ``,"crc32":``, so an
edited or damaged line is named. The trailer's ``sha256`` covers every byte of the lines
before it (newlines included) and its counts must match them, so a truncated file (no
trailer) or lines added, removed or swapped are refused too.

Vectors (lists of floats: embeddings) are stored compactly and exactly as
``{"vector": "float32"|"float64", "base64": ...}`` (little-endian), float32 whenever every
value is exactly a float32 (graphmem's embeddings always are). Property maps are not graph
values, so a map in ``props`` is always such a vector.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from graphmem.dump.graph import NODE_LABELS, RELATIONSHIPS, rel_key_property
from graphmem.errors import InputError

__all__ = ["DUMP_FORMAT", "DumpHeader", "DumpReader", "DumpWriter", "encode_props", "decode_props", "encode_line"]

DUMP_FORMAT = "graphmem.dump/1"
"""Format name and version written in every header; a reader refuses other versions."""

_CRC_KEY = b',"crc32":"'
_CRC_TAIL = len(_CRC_KEY) + 8 + 2  # ,"crc32":"xxxxxxxx"}
_PRIMITIVES = (str, bool, int, float)


class DumpHeader(dict):
    """The header record (a dict): ``format``, ``graphmem_version``, ``embedding_model``,
    ``embedding_dimension``, ``namespaces``, ``created_at``."""

    @property
    def namespaces(self) -> list[str]:
        """The namespaces the dump holds."""
        return list(self["namespaces"])


# ---------------------------------------------------------------------------- values
def _encode_value(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        value = value.ravel().tolist()
    if isinstance(value, (list, tuple)) and value and type(value[0]) is float:
        wide = np.asarray(value)
        if wide.dtype != np.float64 or wide.ndim != 1:  # not a list of numbers only (lists are homogeneous in a graph)
            return list(value)
        narrow = wide.astype(np.float32)
        if np.array_equal(narrow.astype(np.float64), wide, equal_nan=True):
            return {"vector": "float32", "base64": base64.b64encode(narrow.astype("<f4").tobytes()).decode("ascii")}
        return {"vector": "float64", "base64": base64.b64encode(wide.astype("<f8").tobytes()).decode("ascii")}
    if isinstance(value, tuple):
        return list(value)
    return value


def encode_props(props: Mapping[str, Any]) -> dict[str, Any]:
    """Properties as dump JSON: nulls dropped, float lists as exact base64 vectors, keys sorted."""
    return {key: _encode_value(value) for key, value in sorted(props.items()) if value is not None}


def decode_props(props: Mapping[str, Any]) -> dict[str, Any]:
    """Properties from dump JSON: vectors become numpy arrays (float32) or lists of floats (float64)."""
    out: dict[str, Any] = {}
    for key, value in props.items():
        if isinstance(value, dict):
            raw = base64.b64decode(value["base64"])
            out[key] = np.frombuffer(raw, dtype="<f4").astype(np.float32) if value["vector"] == "float32" \
                else np.frombuffer(raw, dtype="<f8").astype(float).tolist()
        else:
            out[key] = value
    return out


def vector_length(value: Any) -> int | None:
    """Length of an encoded vector property value, or None when it is not one."""
    if isinstance(value, dict):
        return len(base64.b64decode(value["base64"])) // (4 if value["vector"] == "float32" else 8)
    return None


def encode_line(record: Mapping[str, Any]) -> bytes:
    """One record as a dump line (with its crc32 and the newline)."""
    body = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    if not body.endswith(b"}") or len(body) < 3:
        raise ValueError("a dump record is a non-empty JSON object")
    head = body[:-1]
    return head + _CRC_KEY + b"%08x" % zlib.crc32(head) + b'"}\n'


# ---------------------------------------------------------------------------- writing
class DumpWriter:
    """Writes a dump to ``path`` (gzip), atomically: a temporary file renamed on :meth:`close`.

    Use as a context manager; on an exception the temporary file is removed and ``path`` is
    untouched.
    """

    def __init__(self, path: str | os.PathLike[str], header: Mapping[str, Any], *, compresslevel: int = 1) -> None:
        self.path = Path(path)
        if self.path.is_dir():  # (found only by the rename at the end, after the whole export)
            raise InputError(f"{self.path}: is a folder; name the dump file to write (e.g. {self.path / 'memory.jsonl.gz'})")
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
        self._raw: BinaryIO | None = None
        self._gz: Any = None
        self._sha = hashlib.sha256()
        self.lines = 0
        self.counts: dict[str, int] = {}
        self.nodes = 0
        self.relationships = 0
        self._header = dict(header)
        self._compresslevel = compresslevel

    def __enter__(self) -> "DumpWriter":
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._raw = open(self._tmp, "wb")
        except OSError as exc:
            raise InputError(f"{self.path}: cannot write: {exc.strerror or exc}") from exc
        self._gz = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, compresslevel=self._compresslevel, mtime=0)
        self._emit({"record": "header", **self._header})
        return self

    def _emit(self, record: Mapping[str, Any]) -> None:
        line = encode_line(record)
        self._gz.write(line)
        self._sha.update(line)
        self.lines += 1

    def write(self, record: Mapping[str, Any]) -> None:
        """Write one node or relationship record (``record`` key included)."""
        kind = record["record"]
        if kind == "node":
            self.nodes += 1
            key = record["label"]
        else:
            self.relationships += 1
            key = f"rel:{record['type']}"
        self.counts[key] = self.counts.get(key, 0) + 1
        self._emit(record)

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is None:
            trailer = {"record": "trailer", "nodes": self.nodes, "relationships": self.relationships,
                       "counts": dict(sorted(self.counts.items())), "lines": self.lines, "sha256": self._sha.hexdigest()}
            self._gz.write(encode_line(trailer))
        try:
            self._gz.close()
            self._raw.close()  # type: ignore[union-attr]
            if exc_type is None:
                os.replace(self._tmp, self.path)
        finally:
            self._tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------------------- reading
class DumpReader:
    """Reads and checks a dump, streaming: :meth:`records` yields ``(line number, record)``.

    Every line is checked as it is read (its crc32, JSON, record shape, labels and types
    against the allow-list, namespaces against the header, vector lengths against the
    embedding dimension); the trailer is checked against everything before it. Any
    problem raises :class:`InputError` naming the file and line. Read the whole file once
    (:meth:`validate`) before acting on any record.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.header: DumpHeader | None = None
        self.trailer: dict[str, Any] | None = None

    def _fail(self, line: int, message: str) -> InputError:
        return InputError(f"{self.path}: line {line}: {message}")

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        try:
            raw = open(self.path, "rb")
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read: {exc.strerror or exc}") from exc
        number = 0
        with raw, gzip.GzipFile(fileobj=raw, mode="rb") as handle:
            try:
                for number, line in enumerate(handle, 1):
                    yield number, line
            except EOFError as exc:
                raise self._fail(number + 1, f"the file is truncated (it ends inside the compressed data after "
                                             f"{number} complete line(s))") from exc
            except (OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
                raise self._fail(number + 1, f"damaged compressed data ({exc}); not a graphmem dump or damaged "
                                             "after it was written") from exc

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(line number, record)`` for every node and relationship, checked; then check the trailer."""
        self.header = self.trailer = None
        sha = hashlib.sha256()
        counts: dict[str, int] = {}
        nodes = relationships = 0
        last = 0
        seen_relationship = False
        for number, line in self._lines():
            last = number
            if self.trailer is not None:
                raise self._fail(number, "a line after the trailer")
            record = self._parse(number, line)
            kind = record.get("record")
            if number == 1:
                self.header = self._check_header(number, record)
                sha.update(line)
                continue
            if kind == "trailer":
                self._check_trailer(number, record, sha.hexdigest(), number - 1, nodes, relationships, counts)
                self.trailer = record
                continue
            sha.update(line)
            if kind == "node":
                if seen_relationship:
                    raise self._fail(number, "a node after the relationships (nodes come first)")
                self._check_node(number, record)
                nodes += 1
                key = record["label"]
            elif kind == "relationship":
                seen_relationship = True
                self._check_relationship(number, record)
                relationships += 1
                key = f"rel:{record['type']}"
            else:
                raise self._fail(number, f"unknown record {kind!r} (expected node, relationship or trailer)")
            counts[key] = counts.get(key, 0) + 1
            yield number, record
        if last == 0:
            raise self._fail(1, "the file is empty")
        if self.trailer is None:
            raise self._fail(last + 1, f"the file is truncated: no trailer after line {last}")

    def validate(self) -> dict[str, Any]:
        """Read the whole file, checking every line; returns the trailer (counts)."""
        for _ in self.records():
            pass
        assert self.trailer is not None
        return self.trailer

    # ------------------------------------------------------------------ checks
    def _parse(self, number: int, line: bytes) -> dict[str, Any]:
        body = line[:-1] if line.endswith(b"\n") else line
        if len(body) < _CRC_TAIL or body[-_CRC_TAIL:-10] != _CRC_KEY or not body.endswith(b'"}'):
            if number == 1:
                raise self._fail(number, "not a graphmem dump (no checked header line)")
            raise self._fail(number, "the line has no crc32 at its end (damaged or cut short)")
        head, crc = body[:-_CRC_TAIL], body[-10:-2]
        if b"%08x" % zlib.crc32(head) != crc:
            raise self._fail(number, "the line does not match its crc32: it was edited or damaged after the dump was written")
        try:
            record = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise self._fail(number, f"invalid JSON: {exc}") from exc
        if not isinstance(record, dict):
            raise self._fail(number, "a record must be a JSON object")
        record.pop("crc32", None)
        return record

    def _check_header(self, number: int, record: dict[str, Any]) -> DumpHeader:
        if record.get("record") != "header":
            raise self._fail(number, "the first line must be the header")
        fmt = record.get("format")
        if fmt != DUMP_FORMAT:
            raise self._fail(number, f"unsupported dump format {fmt!r} (this graphmem reads {DUMP_FORMAT!r})")
        namespaces = record.get("namespaces")
        if not isinstance(namespaces, list) or not namespaces or not all(isinstance(n, str) and n for n in namespaces):
            raise self._fail(number, "header 'namespaces' must be a non-empty list of strings")
        from graphmem.errors import ConfigurationError
        from graphmem.memory import validate_namespace

        for name in namespaces:  # one graphmem could not open again (too long, NUL) is refused here
            try:
                validate_namespace(name)
            except ConfigurationError as exc:
                raise self._fail(number, f"header namespace {name[:40]!r}: {exc}") from None
        dimension = record.get("embedding_dimension")
        if dimension is not None and (type(dimension) is not int or dimension < 1):
            raise self._fail(number, "header 'embedding_dimension' must be a positive integer or null")
        if not isinstance(record.get("embedding_model"), str):
            raise self._fail(number, "header 'embedding_model' must be a string")
        return DumpHeader(record)

    def _check_props(self, number: int, props: Any) -> None:
        if not isinstance(props, dict):
            raise self._fail(number, "'props' must be an object")
        dimension = self.header.get("embedding_dimension") if self.header else None
        for key, value in props.items():
            if isinstance(value, dict):
                if value.get("vector") not in ("float32", "float64") or not isinstance(value.get("base64"), str):
                    raise self._fail(number, f"property {key!r}: an object must be a vector {{vector, base64}}")
                try:
                    raw = base64.b64decode(value["base64"], validate=True)
                except ValueError as exc:
                    raise self._fail(number, f"property {key!r}: bad base64 vector") from exc
                size = 4 if value["vector"] == "float32" else 8
                if len(raw) % size:  # (it failed in the write, after the check, with numpy's buffer error)
                    raise self._fail(number, f"property {key!r}: {len(raw)} bytes are no whole number of {value['vector']} values")
                length = len(raw) // size
                if key == "embedding" and dimension is None:  # the model check reads the header's dimension
                    raise self._fail(number, "property 'embedding': the header says the dump holds no embeddings "
                                             "('embedding_dimension' null)")
                if key == "embedding" and length != dimension:
                    raise self._fail(number, f"property 'embedding' has {length} values; the header says {dimension}")
            elif isinstance(value, list):
                if not all(isinstance(v, _PRIMITIVES) for v in value):
                    raise self._fail(number, f"property {key!r}: a list may hold only strings, numbers and booleans")
            elif not isinstance(value, _PRIMITIVES):
                raise self._fail(number, f"property {key!r}: unsupported value {value!r}")

    def _check_node(self, number: int, record: dict[str, Any]) -> None:
        label = record.get("label")
        if label not in NODE_LABELS:
            raise self._fail(number, f"node label {label!r} is not one a dump may hold ({', '.join(NODE_LABELS)})")
        if not isinstance(record.get("id"), str) or not record["id"]:
            raise self._fail(number, "node 'id' must be a non-empty string")
        props = record.get("props")
        self._check_props(number, props)
        if "id" in props:  # type: ignore[operator]  # (it replaced the node's id on import)
            raise self._fail(number, "a node's 'props' must not hold 'id': its id is the record's")
        namespace = props.get("namespace")  # type: ignore[union-attr]  # _check_props made sure it is a dict
        if namespace not in self.header["namespaces"]:  # type: ignore[index]
            raise self._fail(number, f"node namespace {namespace!r} is not one of the header's namespaces")

    def _check_relationship(self, number: int, record: dict[str, Any]) -> None:
        rel_type = record.get("type")
        if rel_type not in RELATIONSHIPS:
            raise self._fail(number, f"relationship type {rel_type!r} is not one a dump may hold ({', '.join(RELATIONSHIPS)})")
        pair = (record.get("start_label"), record.get("end_label"))
        if pair not in RELATIONSHIPS[rel_type]:
            raise self._fail(number, f"a {rel_type} relationship cannot join {pair[0]!r} to {pair[1]!r}")
        for end in ("start", "end"):
            if not isinstance(record.get(end), str) or not record[end]:
                raise self._fail(number, f"relationship {end!r} must be a node id")
        self._check_props(number, record.get("props"))
        key = rel_key_property(rel_type)
        if key is not None and not isinstance(record["props"].get(key), str):
            raise self._fail(number, f"a {rel_type} relationship needs its {key!r} property")

    def _check_trailer(self, number: int, record: dict[str, Any], sha: str, lines: int, nodes: int, relationships: int,
                       counts: dict[str, int]) -> None:
        if record.get("sha256") != sha:
            raise self._fail(number, "the checksum does not match the lines before it: lines were changed, added or removed")
        expected = {"lines": lines, "nodes": nodes, "relationships": relationships}
        for key, value in expected.items():
            if record.get(key) != value:
                raise self._fail(number, f"the trailer counts {record.get(key)!r} {key}; the file holds {value}")
        if record.get("counts") != dict(sorted(counts.items())):
            raise self._fail(number, "the trailer's counts per label and type do not match the file")
