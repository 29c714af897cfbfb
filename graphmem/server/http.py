"""The HTTP JSON API of ``graphmem serve`` (FastAPI), with the MCP tools mounted at ``/mcp``."""

from __future__ import annotations

import asyncio
import gzip
import hmac
import ipaddress
import logging
import re
import shutil
import tempfile
import zlib
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit
from typing import Annotated, Any, AsyncIterator, Callable, Optional, TypeVar, Union

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StringConstraints
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException as StarletteHTTPException

from graphmem.entities import validate_entities_query, validate_entity_query
from graphmem.errors import ClosedError, ConfigurationError, GraphmemError, InputError, QueryTimeoutError, StorageError, StoreUnavailableError
from graphmem.forget import ForgetSelection
from graphmem.hits import explain_text, recall_parts, recall_plan, recall_text, validate_recall
from graphmem.loaders import FORMATS
from graphmem.loaders.chat import validate_messages_query
from graphmem.memory import Memory, has_search_terms
from graphmem.retrieve.types import MAX_EXCLUDED, STRATEGIES, UNITS
from graphmem.server.hub import MAX_FORGET_TURNS, MAX_KEY, MAX_MESSAGES, MAX_METADATA, MemoryHub
from graphmem.server.validation import validation_message
from graphmem.store.base import WriteConflict, seconds_text

__all__ = ["create_app", "DEFAULT_MAX_BODY", "MAX_K", "API_VERSION"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY = 16 * 1024 * 1024
"""Largest request body accepted by default (bytes); larger ones get 413."""
MAX_K = 1000
"""Most hits one search returns."""
MAX_QUERY = 100_000
"""Most characters of a query (a pasted message: the model reads its first 256 word pieces)."""
API_VERSION = "1"
_T = TypeVar("_T")


# ---------------------------------------------------------------------------- bodies
_Time = Union[StrictInt, StrictFloat, Annotated[str, StringConstraints(max_length=64)]]
"""A time in a body: ISO 8601 text or a Unix time in seconds (as Memory takes them)."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessagesBody(_Body):
    """``POST /v1/namespaces/{ns}/messages``: messages for ``Memory.add``."""

    conversation: str = Field(min_length=1, max_length=1024, description="Conversation key (created on first use).")
    session: Optional[str] = Field(None, min_length=1, max_length=1024, description="Session key within the conversation.")
    session_started_at: Optional[_Time] = Field(None, description="ISO 8601 start of the session (or a Unix time).")
    messages: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_MESSAGES, description=(
        "Messages in order: {speaker|role, text|content, timestamp? (ISO 8601 or Unix seconds; default: now), id?, caption?, metadata?}; chat-API messages "
        "(content parts, name, tool calls) are read as Memory.add reads them."))


class CorrectBody(_Body):
    """``PATCH /v1/namespaces/{ns}/turns/{turn_id}``: what a correction replaces (a field left out stays)."""

    text: Optional[str] = Field(None, max_length=1_000_000, description="The new text.")
    speaker: Optional[str] = Field(None, max_length=1024, description="The new speaker.")
    caption: Optional[str] = Field(None, max_length=100_000, description="The new image description ('' removes it).")
    metadata: Optional[dict[str, Any]] = Field(None, max_length=MAX_METADATA, description="The new metadata, replacing the stored ({} removes it).")


class SearchBody(_Body):
    """``POST /v1/namespaces/{ns}/search``."""

    query: str = Field(min_length=1, max_length=MAX_QUERY)
    k: StrictInt = Field(10, ge=1, le=MAX_K)
    unit: str = Field("turn", description=" | ".join(UNITS))
    strategy: str = Field("auto", description=" | ".join(STRATEGIES))
    time_range: Optional[tuple[Optional[_Time], Optional[_Time]]] = Field(None, description="[since, until], ISO 8601 or Unix "
                                                                                           "times, null for an open end.")
    explain: bool = Field(False, description="Add each hit's readable explanation as explanation_text.")
    speaker: Optional[str] = Field(None, max_length=1024, description="Only what this speaker said (case-insensitive).")
    conversation: Optional[str] = Field(None, max_length=1024, description="Only this conversation (Hit.conversation_id).")
    session: Optional[str] = Field(None, max_length=1024, description="Only sessions with this key (Hit.session_key).")
    as_of: Optional[str] = Field(None, max_length=64, description="When the question is asked (ISO 8601; default: now): "
                                                                  "'last Saturday' in the query means the Saturday before it.")
    exclude: Optional[list[str]] = Field(None, max_length=MAX_EXCLUDED, description="Node ids not to return (the messages a "
                                                                                     "prompt holds already).")
    metadata: Optional[dict[str, Any]] = Field(None, max_length=MAX_METADATA, description="Only messages whose metadata holds every "
                                                                                "key: value (text, numbers, booleans).")


class RecallBody(_Body):
    """``POST /v1/namespaces/{ns}/conversations/{key}/recall``: Memory.recall's arguments (search's too)."""

    query: Optional[str] = Field(None, min_length=1, max_length=MAX_QUERY, description="What to recall for (default: the "
                                                                                  "conversation's latest message).")
    recent: StrictInt = Field(20, ge=0, le=MAX_K, description="How many of the latest messages to give (0: none).")
    k: StrictInt = Field(5, ge=1, le=MAX_K, description="How many memories to recall.")
    max_chars: Optional[StrictInt] = Field(1000, ge=1, description="The most characters of each text (null: whole texts).")
    unit: str = Field("turn", description=" | ".join(UNITS))
    strategy: str = Field("auto", description=" | ".join(STRATEGIES))
    time_range: Optional[tuple[Optional[_Time], Optional[_Time]]] = Field(None, description="[since, until], ISO 8601 or Unix times.")
    speaker: Optional[str] = Field(None, max_length=1024)
    session: Optional[str] = Field(None, max_length=1024)
    as_of: Optional[str] = Field(None, max_length=64)
    exclude: Optional[list[str]] = Field(None, max_length=MAX_EXCLUDED)
    metadata: Optional[dict[str, Any]] = Field(None, max_length=MAX_METADATA)


class ForgetBody(_Body):
    """``POST /v1/namespaces/{ns}/forget``: every given criterion must hold."""

    conversation: Optional[str] = Field(None, max_length=1024)
    session: Optional[str] = Field(None, max_length=1024)
    before: Optional[str] = Field(None, max_length=64)
    turn: Optional[list[str]] = Field(None, max_length=MAX_FORGET_TURNS, description="turn ids to forget (Hit.node_id, AddReport.turn_ids)")
    metadata: Optional[dict[str, Any]] = Field(None, max_length=MAX_METADATA, description="Messages whose metadata holds every key: value (not empty).")


class TimezoneBody(_Body):
    """``PUT /v1/namespaces/{ns}/timezone``: the namespace's time zone (Memory.set_timezone)."""

    timezone: Optional[str] = Field(max_length=64, description="An IANA name ('Europe/Berlin'), 'UTC' or 'local'; null "
                                                                "removes it (GRAPHMEM_TIMEZONE where the server runs applies again).")


class CypherBody(_Body):
    """``POST /v1/namespaces/{ns}/cypher``: read-only Cypher with parameters ($namespace is set)."""

    query: str = Field(min_length=1, max_length=100_000)
    params: dict[str, Any] = Field(default_factory=dict)


class ErrorBody(BaseModel):
    """Every error answer: one line, as the CLI prints it."""

    error: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "bad input"}, 401: {"model": ErrorBody, "description": "no or wrong bearer token"},
    404: {"model": ErrorBody, "description": "unknown namespace"}, 413: {"model": ErrorBody, "description": "body too large"}}
_CYPHER_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS, 504: {"model": ErrorBody, "description": "the query ran past the server's time limit (GRAPHMEM_CYPHER_TIMEOUT) and was stopped"}}


# ---------------------------------------------------------------------------- middleware
def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _loopback_name(host: str) -> bool:
    """Whether ``host`` (a Host header's or an origin's name, no port) names this machine."""
    host = host.strip("[]").lower()
    if host in ("localhost", "::1") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: How many times the body limit a gzipped upload may inflate to (16 MiB: 256 MiB of text). A 298 KB
#: upload inflated to 605 MB in the server's memory, and the body limit let through one of 16 GB.
UPLOAD_INFLATION = 16


def _inflated(path: Path, limit: int) -> Path:
    """``path`` itself, or for a gzipped upload the text it holds, inflated beside it as a stream and
    refused past ``limit`` bytes (or when it holds gzip again) before it is read whole."""
    with path.open("rb") as handle:
        if handle.read(2) != b"\x1f\x8b":
            return path
    out = path.with_name(path.name[:-3] if path.name.endswith(".gz") else f"{path.name}.text")
    size = 0
    try:
        with gzip.open(path, "rb") as source, out.open("wb") as target:
            while chunk := source.read(1 << 20):
                if size == 0 and chunk[:2] == b"\x1f\x8b":
                    raise InputError(f"{path.name}: a gzip file inside a gzip file; upload it gzipped once")
                size += len(chunk)
                if size > limit:
                    raise InputError(f"{path.name}: inflates past {limit} bytes ({UPLOAD_INFLATION} times the body limit); "
                                     "split it, or ingest it with graphmem ingest where the file is")
                target.write(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{path.name}: corrupt gzip data: {exc}") from None
    path.unlink()
    return out


def _host_name(address: str) -> str:
    """The host name of ``address`` (``//host:port`` or an origin), "" when it cannot be read."""
    try:
        return urlsplit(address).hostname or ""
    except ValueError:  # "[::1" and the like
        return ""


def _not_from_this_machine(headers: dict[bytes, bytes]) -> tuple[int, str] | None:
    """Why a request to a server without a token is refused, if it is: a Host that names another
    machine (a web page's DNS rebinding: attacker.example resolved to 127.0.0.1 read every namespace),
    or an Origin of another machine's page (a cross-site form posted an upload that stored, and
    corrected, messages). The MCP endpoint's own guard refused the first already."""
    host = headers.get(b"host", b"").decode("latin-1")
    if host and not _loopback_name(_host_name(f"//{host}")):
        return 421, f"Host {host!r} names another machine: a server without a token answers requests to this machine only"
    origin = headers.get(b"origin")
    if origin is not None and origin != b"null":
        if not _loopback_name(_host_name(origin.decode("latin-1"))):
            return 403, (f"a web page of {origin.decode('latin-1')!r} may not call a server without a token "
                         "(start it with --token to serve other origins)")
    return None


class GuardMiddleware:
    """Bearer-token check (every path but ``/healthz``) and the request body limit, as plain ASGI
    so they also cover the MCP endpoint."""

    def __init__(self, app: Any, token: str | None, max_body: int) -> None:
        self.app = app
        self.token = token.encode("utf-8") if token else None
        self.max_body = max_body
        self.on_stop: list[Callable[[], None]] = []

    def stopping(self) -> None:
        """The server stops accepting connections: end what would hold its stop while no work is
        in flight (see :func:`_end_event_streams`). Called in the event loop's thread."""
        for end in self.on_stop:
            try:
                end()
            except Exception:  # the stop goes on: at worst, the connection is closed when the grace ends
                logger.warning("ending the event streams at the stop failed", exc_info=True)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        try:  # a percent-escaped byte that is no UTF-8 would reach a route as U+FFFD, a namespace or key nobody named
            unquote_to_bytes(scope.get("raw_path") or scope.get("path", "").encode("utf-8")).decode("utf-8")
        except UnicodeDecodeError:
            await _error(400, "the request's path holds an escaped byte that is no UTF-8 text (such as %FF); "
                              "escape the UTF-8 bytes of each character")(scope, receive, send)
            return
        if self.token is None:  # (a server without a token listens on loopback alone: require_safe_bind)
            refused = _not_from_this_machine(headers)
            if refused is not None:
                await _error(*refused)(scope, receive, send)
                return
        if self.token is not None and scope.get("path") != "/healthz":
            given = headers.get(b"authorization", b"")
            scheme, _, value = given.partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(value.strip(), self.token):
                await _error(401, "missing or wrong bearer token (send 'Authorization: Bearer <token>')",
                             {"WWW-Authenticate": "Bearer"})(scope, receive, send)
                return
        length = headers.get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_body
            except ValueError:
                await _error(400, "bad Content-Length header")(scope, receive, send)
                return
            if too_big:
                await _error(413, f"request body larger than {self.max_body} bytes")(scope, receive, send)
                return
            await self._answer(scope, receive, send)  # the server holds the body to its Content-Length
            return
        # no Content-Length (chunked): read the body here, up to the limit, then hand it on
        buffered: list[dict] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_body:
                await _error(413, f"request body larger than {self.max_body} bytes")(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> dict:
            return buffered.pop(0) if buffered else await receive()

        await self._answer(scope, replay, send)

    async def _answer(self, scope: dict, receive: Callable, send: Callable) -> None:
        """The app's answer; a request the server stopped waiting for (a second stop signal cancels
        requests in flight) gets a 503 naming that, which a client reads as an answer lost (its work
        may or may not be stored, and runs to its end before the store closes), instead of uvicorn's
        plain-text 500 and a traceback in the log."""
        started = False

        async def sending(message: dict) -> None:
            nonlocal started
            started = started or message.get("type") == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except asyncio.CancelledError:
            if started:  # a response already under way (an MCP event stream): the connection just ends
                raise
            logger.warning("%s %s: the server stopped before answering", scope.get("method"), scope.get("path"))
            await _error(503, "the server stopped before answering: what the request asked may or may not be stored "
                              "(work under way ends whole before the store closes); send it again once the server is back "
                              "(a message with an id is stored once)")(scope, receive, send)




def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# ---------------------------------------------------------------------------- app
def create_app(hub: MemoryHub, *, token: str | None = None, max_body: int = DEFAULT_MAX_BODY, mcp: bool = True,
               host: str = "127.0.0.1", close_hub: bool = True) -> Any:
    """The ASGI application serving ``hub``.

    Args:
        hub: the store and its namespaces.
        token: the bearer token every endpoint but ``/healthz`` requires (``None``: none).
        max_body: the largest request body accepted, in bytes.
        mcp: mount the MCP tools (streamable HTTP) at ``/mcp``.
        host: the address served (the MCP transport's DNS-rebinding guard allows loopback
            host names on a loopback address).
        close_hub: close the hub (and its store) when the application shuts down.

    Returns:
        An ASGI application (FastAPI) wrapped in the token and body-size guard.
    """
    mcp_server = None
    if mcp:
        from graphmem.server.mcp import build_mcp

        mcp_server = build_mcp(hub)
        mcp_app = mcp_server.streamable_http_app(streamable_http_path="/mcp", host=host)

    write_locks: dict[str, asyncio.Lock] = {}

    def write_lock(namespace: str) -> asyncio.Lock:
        return write_locks.setdefault(namespace, asyncio.Lock())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            if mcp_server is not None:
                async with mcp_server.session_manager.run():
                    yield
            else:
                yield
        finally:
            if close_hub:
                await run_in_threadpool(hub.close)

    app = FastAPI(title="graphmem", version=API_VERSION, lifespan=lifespan,
                  description="Long-term memory for conversational agents: one store, many namespaces.")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(400, validation_message(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(GraphmemError)
    async def _graphmem(request: Request, exc: GraphmemError) -> JSONResponse:
        if isinstance(exc, (InputError, ConfigurationError)):
            return _error(400, _one_line(exc))
        if isinstance(exc, (ClosedError, StoreUnavailableError, WriteConflict)):  # (a conflict: other writers kept winning; try again)
            return _error(503, _one_line(exc))
        logger.error("request %s %s failed: %s", request.method, request.url.path, exc, exc_info=exc)
        return _error(500, _one_line(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.error("request %s %s failed", request.method, request.url.path, exc_info=exc)
        return _error(500, f"internal error ({type(exc).__name__}); the server log has the details")

    async def blocking(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        return await run_in_threadpool(hub.run, fn, *args, **kwargs)

    @asynccontextmanager
    async def using(ns: str) -> AsyncIterator[Memory]:
        """``ns``'s Memory, held open while the request uses it (MemoryHub.acquire); one being
        closed as idle is waited for on a worker thread, not on the event loop."""
        memory = hub.try_acquire(ns)
        if memory is None:
            memory = await blocking(hub.acquire, ns)
        try:
            yield memory
        finally:
            hub.release(ns)

    async def known(ns: str) -> None:
        if not await blocking(hub.exists, ns):
            raise _NotFound(f"namespace {ns!r} not found")

    @app.exception_handler(_NotFound)
    async def _missing(request: Request, exc: "_NotFound") -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(_TimeLimit)
    async def _too_long(request: Request, exc: "_TimeLimit") -> JSONResponse:
        return _error(504, str(exc))

    @app.get("/healthz", summary="Liveness (no token needed)")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/namespaces", summary="Every namespace holding data", responses=_ERRORS)
    async def list_namespaces() -> dict[str, Any]:
        return {"namespaces": await blocking(hub.namespaces)}

    @app.post("/v1/namespaces/{ns}/messages", summary="Add messages (Memory.add)", responses=_ERRORS)
    async def add_messages(ns: str, body: MessagesBody) -> dict[str, Any]:
        hub.memory(ns)
        async with write_lock(ns):
            return await blocking(hub.add, ns, body.messages, conversation=body.conversation, session=body.session,
                                  session_started_at=body.session_started_at)

    @app.post("/v1/namespaces/{ns}/ingest", summary="Ingest an uploaded file (any supported format)", responses=_ERRORS)
    async def ingest(request: Request, ns: str, file: UploadFile = File(...), format: str = Form("auto"),
                     conversation_id: Optional[str] = Form(None)) -> dict[str, Any]:
        hub.memory(ns)  # (a bad namespace or a closed server: refused before the upload is read)
        if conversation_id is None:  # FastAPI reads a field sent empty as one left out: "" is a blank key, refused as
            sent = (await request.form()).get("conversation_id")  # Memory.ingest refuses it, not the file's name
            conversation_id = sent if isinstance(sent, str) else None
        if format not in FORMATS:
            raise InputError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
        if conversation_id is not None and len(conversation_id) > MAX_KEY:  # (as /messages limits it)
            raise InputError(f"conversation_id: at most {MAX_KEY} characters, got {len(conversation_id)}")
        name = _safe_name(file.filename)
        original = Path((file.filename or "").replace("\\", "/")).name
        if conversation_id is None and original:  # keyed by its own name, as Memory.ingest keys it ("Team chat",
            from graphmem.loaders import file_key  # not the copy's "Team_chat", which another chat's file may be)

            conversation_id = file_key(Path(original))
        tmp = Path(await blocking(tempfile.mkdtemp, prefix="graphmem-upload-"))
        try:
            path = tmp / name
            with path.open("wb") as handle:
                while chunk := await file.read(1 << 20):
                    handle.write(chunk)
            path = await blocking(_inflated, path, UPLOAD_INFLATION * max_body)
            async with write_lock(ns), using(ns) as memory:
                try:
                    report = await blocking(_locked, hub.write_lock(ns), memory.ingest, path, format, conversation_id=conversation_id)
                except InputError as exc:  # name the upload, not the temporary copy
                    raise InputError(str(exc).replace(str(path), name).replace(str(tmp) + "/", "")) from None
            result = report.to_dict()
            result["sources"] = [name]
            return result
        finally:
            await blocking(shutil.rmtree, tmp, True)

    @app.post("/v1/namespaces/{ns}/search", summary="Search (answers {hits: [...]})", responses=_ERRORS)
    async def search(ns: str, body: SearchBody) -> dict[str, Any]:
        time_range = list(body.time_range) if body.time_range is not None else None
        filters = {"speaker": body.speaker, "conversation": body.conversation, "session": body.session}
        if not await blocking(hub.exists, ns):  # (validates ns) no Memory is kept for a namespace never written
            from graphmem.retrieve.types import validate_query

            validate_query(body.query, body.k, body.unit, body.strategy, time_range, speaker=body.speaker,
                           conversation=body.conversation, session=body.session, as_of=body.as_of, tz=hub.settings.tz,
                           exclude=body.exclude, metadata=body.metadata)
            return {"hits": [], **_no_terms_note(body.query)}
        async with using(ns) as memory:
            hits = await blocking(memory.search, body.query, body.k, body.unit, body.strategy, time_range, **filters,
                                  as_of=body.as_of, exclude=body.exclude, metadata=body.metadata)
        rows = []
        for hit in hits:
            row = hit.to_dict(explain=body.explain)
            if body.explain:
                row["explanation_text"] = explain_text(hit)
            rows.append(row)
        return {"hits": rows, **_no_terms_note(body.query)}

    @app.post("/v1/namespaces/{ns}/forget", summary="Forget turns and what derives only from them", responses=_ERRORS)
    async def forget(ns: str, body: ForgetBody) -> dict[str, Any]:
        ForgetSelection.of(body.conversation, body.session, body.before, turns=body.turn,
                           metadata=body.metadata)  # bad criteria: 400 before the lookup
        await known(ns)
        async with write_lock(ns), using(ns) as memory:
            return await blocking(_locked, hub.write_lock(ns), memory.forget, body.conversation, body.session, body.before,
                                  turn=body.turn, metadata=body.metadata)

    @app.get("/v1/namespaces/{ns}/turns/{turn_id}/history", summary="Every text a turn has had (Memory.history)",
             responses=_ERRORS)
    async def history(ns: str, turn_id: str) -> dict[str, Any]:
        await known(ns)
        try:
            async with using(ns) as memory:
                return {"versions": await blocking(memory.history, turn_id)}
        except InputError as exc:  # no such turn: the resource is missing, not the request malformed
            raise _NotFound(str(exc)) from None

    @app.patch("/v1/namespaces/{ns}/turns/{turn_id}", summary="Correct a stored message by its turn id (Memory.correct)",
               responses=_ERRORS)
    async def correct(ns: str, turn_id: str, body: CorrectBody) -> dict[str, Any]:
        await known(ns)
        async with write_lock(ns), using(ns) as memory:
            try:
                report = await blocking(_locked, hub.write_lock(ns), memory.correct, turn_id, body.text, speaker=body.speaker,
                                        caption=body.caption, metadata=body.metadata)
            except InputError as exc:
                if str(exc).startswith("turn_id: no turn"):  # the resource is missing, not the request malformed
                    raise _NotFound(str(exc)) from None
                raise
        return report.to_dict()

    @app.get("/v1/namespaces/{ns}/conversations/{conversation:text}/messages",  # a key may hold a slash
             summary="A conversation's messages, oldest first (Memory.messages)", responses=_ERRORS)
    async def messages(ns: str, conversation: str, session: Optional[str] = None, last: Optional[int] = None,
                       before: Optional[str] = None) -> dict[str, Any]:
        validate_messages_query(conversation, session, last, before)
        if not await blocking(hub.exists, ns):  # (validates ns) a namespace never written holds no messages
            return {"messages": []}
        async with using(ns) as memory:
            return {"messages": await blocking(memory.messages, conversation, session=session, last=last, before=before)}

    @app.get("/v1/namespaces/{ns}/entities", summary="The namespace's entities, most events first (Memory.entities)",
             responses=_ERRORS)
    async def entities(ns: str, label: Optional[str] = None, limit: int = 50) -> dict[str, Any]:
        validate_entities_query(label, limit)
        if not await blocking(hub.exists, ns):  # (validates ns) a namespace never written holds no entities
            return {"entities": []}
        async with using(ns) as memory:
            return {"entities": await blocking(memory.entities, label=label, limit=limit)}

    @app.get("/v1/namespaces/{ns}/entities/{name:text}",  # a name may hold a slash ("AC/DC")
             summary="What the memory knows about an entity ({entity: null} when none has the name; Memory.entity)",
             responses=_ERRORS)
    async def entity(ns: str, name: str, mentions: int = 10, related: int = 10) -> dict[str, Any]:
        validate_entity_query(name, mentions, related)
        if not await blocking(hub.exists, ns):
            return {"entity": None}
        async with using(ns) as memory:
            return {"entity": await blocking(memory.entity, name, mentions=mentions, related=related)}

    @app.post("/v1/namespaces/{ns}/conversations/{conversation:text}/recall",
              summary="A conversation's recent messages, then the memories relevant to its latest one, none repeated "
                      "(Memory.recall): {text, query, messages, hits}", responses=_ERRORS)
    async def recall(ns: str, conversation: str, body: RecallBody) -> dict[str, Any]:
        options = {"unit": body.unit, "strategy": body.strategy, "time_range": list(body.time_range) if body.time_range else None,
                   "speaker": body.speaker, "session": body.session, "as_of": body.as_of, "exclude": body.exclude,
                   "metadata": body.metadata}
        if await blocking(hub.exists, ns):
            async with using(ns) as memory:
                window, query, hits = await blocking(recall_parts, memory.messages, memory.search, conversation, body.query,
                                                     body.recent, body.k, body.max_chars, options)
        else:  # a namespace never written: no messages, nothing recalled (the arguments are still checked)
            from graphmem.retrieve.types import validate_query

            validate_recall(conversation, body.query, body.recent, body.max_chars)
            query, options = recall_plan(conversation, body.query, [], options)
            validate_query(query, body.k, tz=hub.settings.tz, **options)
            window, hits = [], []
        return {"text": recall_text(conversation, window, query, hits, body.max_chars, body.recent), "query": query,
                "messages": window, "hits": [hit.to_dict() for hit in hits]}

    @app.get("/v1/namespaces/{ns}/timezone", summary="The namespace's time zone: {timezone (in force), stored (set for the "
                                                     "namespace, or null: the server's applies)} (Memory.timezone)",
             responses=_ERRORS)
    async def timezone(ns: str) -> dict[str, Any]:
        return await blocking(hub.timezone, ns)

    @app.put("/v1/namespaces/{ns}/timezone", summary="Set the namespace's time zone for every client (Memory.set_timezone)",
             responses=_ERRORS)
    async def set_timezone(ns: str, body: TimezoneBody) -> dict[str, Any]:
        async with write_lock(ns):
            return await blocking(_locked, hub.write_lock(ns), hub.set_timezone, ns, body.timezone)

    @app.get("/v1/namespaces/{ns}/stats", summary="Counts per label and relationship type", responses=_ERRORS)
    async def stats(ns: str) -> dict[str, Any]:
        await known(ns)
        async with using(ns) as memory:
            return await blocking(memory.stats)

    @app.get("/v1/namespaces/{ns}/check", summary="Integrity check (stale caches are rebuilt)", responses=_ERRORS)
    async def check(ns: str) -> dict[str, Any]:
        await known(ns)
        async with write_lock(ns), using(ns) as memory:
            report = await blocking(_locked, hub.write_lock(ns), memory.check)
        return report.to_dict()

    @app.post("/v1/namespaces/{ns}/cypher", summary="Read-only Cypher (writes are refused)", responses=_CYPHER_ERRORS)
    async def cypher(ns: str, body: CypherBody) -> dict[str, Any]:
        await known(ns)
        try:
            async with using(ns) as memory:
                rows = await blocking(memory.cypher, body.query, {**body.params, "namespace": ns}, write=False)
        except QueryTimeoutError as exc:  # (stopped by the store: the server is free for the next request)
            raise _TimeLimit(f"cypher: the query ran past the server's time limit of {seconds_text(exc.limit or 0)} and was "
                             "stopped (GRAPHMEM_CYPHER_TIMEOUT where graphmem serve runs sets it)") from None
        except (StorageError, InputError) as exc:  # a syntax error, an unknown function, a write refused: the query's fault
            message = _one_line(exc)
            if "not idempotent" in message or "the query writes" in message:
                message = "cypher: the query writes; the server runs Cypher read-only"
            raise InputError(message) from None
        return {"rows": rows}

    guard = GuardMiddleware(app, token, max_body)
    if mcp_server is not None:
        for route in mcp_app.routes:
            app.router.routes.append(route)
        manager = mcp_server.session_manager
        guard.on_stop.append(lambda: _end_event_streams(manager))
    return guard


def _end_event_streams(manager: Any) -> None:
    """End the standalone event stream (the GET on ``/mcp``) of every MCP session, as the server stops.

    An MCP client keeps that stream open for as long as its session lasts (the SDK's client opens
    one after ``initialize``), so the server's wait for open connections to finish ran to its
    grace (30 s) before the shutdown that ends the sessions, and then cancelled the stream with a
    ``CancelledError`` traceback in the log. The stream carries no answer (those go on the POST
    that asked), so ending it loses nothing: a tool call in flight is still answered, and the
    session itself ends with the application's shutdown."""
    for transport in list(getattr(manager, "_server_instances", {}).values()):  # (the SDK names no public way to list them)
        transport.close_standalone_sse_stream()


class _NotFound(Exception):
    pass


class _TimeLimit(Exception):
    """User Cypher stopped at the server's time limit: answered 504 (``Client`` raises ``QueryTimeoutError``)."""


def _no_terms_note(query: str) -> dict[str, str]:
    """Why a search found nothing when its query has nothing to search for."""
    return {} if has_search_terms(query) else {"note": "the query has no letters or digits to search for"}


def _locked(lock: Any, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """``fn(*args, **kwargs)`` holding ``lock`` (run in a worker thread)."""
    with lock:
        return fn(*args, **kwargs)


class _Text(Convertor[str]):
    """A path parameter holding any text: a slash ("AC/DC") or a line break (a key Memory.add took;
    Starlette's ``path`` stops at one, so such a conversation was stored but its messages 404ed)."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("text", _Text())

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe_name(filename: str | None) -> str:
    """The uploaded file's base name, reduced to safe characters (its extensions pick the format)."""
    base = Path((filename or "upload").replace("\\", "/")).name
    name = _UNSAFE.sub("_", base).strip("._") or "upload"
    return name[-200:]
