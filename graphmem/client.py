"""``graphmem.Client`` and ``graphmem.AsyncClient``: a memory served by ``graphmem serve``, with the
methods of :class:`Memory` (blocking, or awaited on an asyncio loop).

Both read what each method sends and how its answer is read from one :class:`_Calls`; only the
transport differs (``httpx.Client`` or ``httpx.AsyncClient``)."""

from __future__ import annotations

import math
import os
from datetime import date, datetime
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import quote

from graphmem.errors import (ClosedError, ConfigurationError, GraphmemError, InputError, QueryTimeoutError, StorageError, StoreUnavailableError,
                             reject_lone_surrogates)
from graphmem.ids import validate_namespace
from graphmem.records import TurnRecord
from graphmem.settings import bearer_token
from graphmem.hits import CONTEXT_CHARS, RECENT_MESSAGES, Hit, context_text, explain_text, validate_recall
from graphmem.entities import validate_entities_query, validate_entity_query
from graphmem.timezones import zone_name
from graphmem.loaders.chat import is_sdk_message, sdk_message, validate_correction, validate_messages_query, validate_turn_id

__all__ = ["Client", "AsyncClient"]


@dataclass
class _Call:
    """One request and how its answer is read."""

    method: str
    path: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    read: Callable[[Any], Any] = lambda data: data


def _url(url: str) -> str:
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise ConfigurationError(f"server URL {url!r}: expected http://host:port or https://...")
    return url.rstrip("/")


_GATEWAY_ERRORS = (502, 503, 504)
"""What a server that cannot answer now says, graphmem's own (503) or a reverse proxy's in front of it
(502 Bad Gateway while graphmem restarts, 504 Gateway Timeout when its answer is late): the request
may or may not have been done, and the same call may be sent again."""


def _body(response: Any) -> Any:
    """The JSON of an answer, or None when it holds none (a proxy's or another server's HTML page)."""
    try:
        return response.json()
    except ValueError:  # (json's JSONDecodeError and a body that is no UTF-8 text alike)
        return None


def _answer(url: str, response: Any) -> Any:
    """The JSON of a successful answer; else the error the server named, as graphmem's exception.

    An answer without graphmem's JSON comes from something else on the way (a reverse proxy) or at
    that address: a 500, 502, 503 or 504 of that kind is :class:`StoreUnavailableError` (the server
    behind it is restarting or late; send again), a success :class:`ConfigurationError` (no graphmem
    server answers at ``url``). graphmem's own 504 (its JSON error) is user Cypher stopped at the
    server's time limit: :class:`QueryTimeoutError`, which sending again does not help."""
    data = _body(response)
    status = response.status_code
    if response.is_success:
        if not isinstance(data, dict):
            raise ConfigurationError(f"{url}: answered HTTP {status} without graphmem's JSON "
                                     f"({response.headers.get('content-type') or 'no content type'}): is it a graphmem server?")
        return data
    error = data.get("error") if isinstance(data, dict) else None
    if status == 504 and isinstance(error, str) and error:  # graphmem's own: user Cypher stopped at the server's time limit
        raise QueryTimeoutError(error)
    if status in _GATEWAY_ERRORS or (status == 500 and not (isinstance(error, str) and error)):
        if isinstance(error, str) and error:
            raise StoreUnavailableError(error)
        raise StoreUnavailableError(f"{url}: HTTP {status} without graphmem's answer (a proxy in front of the server, or "
                                    "the server restarting); the request may or may not have been done: send it again")
    message = error if isinstance(error, str) and error else f"HTTP {status}"
    if status in (400, 404, 413, 422):
        raise InputError(message)
    if status == 401:
        raise ConfigurationError(f"{url}: {message}")
    raise StorageError(message) if status >= 500 else GraphmemError(message)


def _healthy(response: Any) -> bool:
    """Whether ``response`` is graphmem's answer that it serves (``{"status": "ok"}``, HTTP 200)."""
    data = _body(response) if response.status_code == 200 else None
    return isinstance(data, dict) and data.get("status") == "ok"


def _unreachable(url: str, exc: Exception) -> StoreUnavailableError:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return StoreUnavailableError(f"{url}: no answer within the timeout")
    if isinstance(exc, httpx.LocalProtocolError):  # its text may quote a header it could not write (the token): left out
        return StoreUnavailableError(f"{url}: the request could not be sent ({type(exc).__name__})")
    return StoreUnavailableError(f"{url}: cannot reach the server ({exc})")


def _failed(client: Any, exc: Exception) -> GraphmemError | None:
    """What a request that raised ``exc`` raises: :class:`ClosedError` when ``client`` was closed while
    it was in flight (its connections were shut under it; a framework retrying StoreUnavailableError
    would retry during its own shutdown), the HTTP library's errors as :class:`StoreUnavailableError`,
    None for anything else (raised as it is)."""
    import httpx

    if client._closed:
        return ClosedError(f"this {type(client).__name__} was closed before the server answered")
    return _unreachable(client.url, exc) if isinstance(exc, httpx.HTTPError) else None


def _segment(value: str) -> str:
    """``value`` as one segment of a request's path: every reserved character escaped, and a key
    that is only dots (``.``, ``..``) written as escapes, which HTTP clients would otherwise read
    as "this folder" and "the folder above" and drop."""
    escaped = quote(value, safe="")
    return escaped.replace(".", "%2E") if escaped.strip(".") == "" else escaped


def _served_namespace(namespace: Any) -> str:
    """``namespace`` as a client may name it: one :meth:`Memory.open` takes (``validate_namespace``:
    refused here, as there, rather than at the first request), and no ``/`` (the server's routes take a
    namespace as one segment of the path; such a namespace is served over MCP, and from Python)."""
    validate_namespace(namespace)
    if "/" in namespace:
        raise ConfigurationError(f"namespace {namespace!r}: the HTTP API cannot name a namespace holding '/' "
                                 "(use it through MCP's namespace argument, or from Python with Memory)")
    return namespace


def _sent_time(value: Any) -> Any:
    """A time as the HTTP API takes it: a datetime or date as ISO 8601 text, anything else as it is
    (text, a Unix time; the server names a bad one)."""
    return value.isoformat() if isinstance(value, (datetime, date)) else value


def _unsendable(value: Any, where: str) -> str | None:
    """The first place in ``value`` JSON cannot carry as it is (a number that is not finite, an
    object that is no text, number, true/false, null, list or mapping of text keys), with why."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, at = stack.pop()
        if item is None or isinstance(item, (str, bool, int)):
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                return f"{at}: {item!r} is not a number JSON carries"
        elif isinstance(item, Mapping):
            for key, child in reversed(list(item.items())):
                if not isinstance(key, str):
                    return f"{at}: the key {key!r} is not text"
                stack.append((child, f"{at}.{key}"))
        elif isinstance(item, (list, tuple)):
            stack.extend((child, f"{at}[{i}]") for i, child in reversed(list(enumerate(item))))
        else:
            return f"{at}: a {type(item).__name__} cannot be sent to the server (text, a number, true/false, null, a list or a mapping)"
    return None


def _json(body: dict[str, Any]) -> dict[str, Any]:
    """The request arguments sending ``body`` as JSON. What JSON cannot carry is an
    :class:`InputError` naming the argument (as :class:`Memory` names it), not an encoder's error
    from inside the HTTP library."""
    for name, value in body.items():
        reject_lone_surrogates(value, name)
        problem = _unsendable(value, name)
        if problem is not None:
            raise InputError(problem)
    return {"json": body}


def _message(record: TurnRecord) -> dict[str, Any]:
    """A :class:`TurnRecord` as the mapping the HTTP API takes for it."""
    message = {"speaker": record.speaker, "text": record.text, "id": record.source_id, "timestamp": _sent_time(record.timestamp),
               "caption": record.caption, "metadata": dict(record.metadata) or None}
    return {k: v for k, v in message.items() if v is not None}


def _search_options(body: dict[str, Any], *, time_range: Any = None, speaker: str | None = None, conversation: str | None = None,
                    session: str | None = None, as_of: Any = None, exclude: Any = None, metadata: Any = None,
                    unit: str | None = None, strategy: str | None = None) -> dict[str, Any]:
    """``body`` with a search's options as the HTTP API takes them (times as ISO 8601 text); an
    option left out is not sent, and a bad one is named by the server."""
    if exclude is not None:
        if not isinstance(exclude, (str, list, tuple, set, frozenset)):  # as Memory.search refuses it
            raise InputError(f"exclude must be a node id or a list of them, got {type(exclude).__name__}")
        body["exclude"] = [exclude] if isinstance(exclude, str) else list(exclude)
    if metadata is not None:
        body["metadata"] = dict(metadata) if isinstance(metadata, Mapping) else metadata
    for name, value in (("speaker", speaker), ("conversation", conversation), ("session", session), ("unit", unit),
                        ("strategy", strategy)):
        if value is not None:
            body[name] = value
    if time_range is not None:
        body["time_range"] = [_sent_time(t) for t in time_range] if isinstance(time_range, (list, tuple)) else time_range
    if as_of is not None:
        body["as_of"] = _sent_time(as_of)
    return body


class _Calls:
    """What each method of :class:`Client` and :class:`AsyncClient` sends, and how its answer is read."""

    namespace: str

    def _path(self, endpoint: str) -> str:
        return f"/v1/namespaces/{_segment(self.namespace)}/{endpoint}"

    def _add(self, messages: Any, conversation: str, session: str | None, session_started_at: str | None) -> _Call:
        if isinstance(messages, (Mapping, TurnRecord)) or is_sdk_message(messages):
            messages = [messages]
        elif not isinstance(messages, Sequence) or isinstance(messages, (str, bytes)):
            raise InputError(f"messages: expected a message (a mapping) or a list of them, got {type(messages).__name__}")
        sent = []
        for position, message in enumerate(messages):
            if is_sdk_message(message):  # a model SDK's object: its JSON form, which the server reads as Memory.add does
                message = sdk_message(message, json=True)
            elif isinstance(message, TurnRecord):
                message = _message(message)
            if not isinstance(message, Mapping):
                raise InputError(f"messages[{position}]: expected a mapping with speaker and text, got {type(message).__name__}")
            sent.append({k: _sent_time(v) if k == "timestamp" else v for k, v in message.items()})
        body: dict[str, Any] = {"conversation": conversation, "messages": sent}
        if session is not None:
            body["session"] = session
        if session_started_at is not None:
            body["session_started_at"] = _sent_time(session_started_at)
        return _Call("POST", self._path("messages"), _json(body))

    def _ingest(self, source: str | os.PathLike[str], format: str, conversation_id: str | None) -> _Call:
        path = Path(source)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        form = {"format": format, **({"conversation_id": conversation_id} if conversation_id is not None else {})}
        return _Call("POST", self._path("ingest"), {"files": {"file": (path.name, content)}, "data": form})

    def _search(self, query: str, k: int, unit: str, strategy: str, time_range: Any, speaker: str | None,
                conversation: str | None, session: str | None, as_of: Any, exclude: Any, metadata: Any = None) -> _Call:
        body = _search_options({"query": query, "k": k, "unit": unit, "strategy": strategy, "explain": True}, time_range=time_range,
                               speaker=speaker, conversation=conversation, session=session, as_of=as_of, exclude=exclude,
                               metadata=metadata)
        return _Call("POST", self._path("search"), _json(body), lambda data: [Hit.from_dict(row) for row in data["hits"]])

    def _recall(self, conversation: str, query: str | None, recent: int, k: int, max_chars: int | None,
                search: Mapping[str, Any]) -> _Call:
        validate_recall(conversation, query, recent, max_chars)
        body = _search_options({"query": query, "recent": recent, "k": k, "max_chars": max_chars}, **search)
        return _Call("POST", self._path(f"conversations/{_segment(conversation)}/recall"), _json(body),
                     lambda data: data["text"])

    def explain(self, hit: Hit) -> str:
        """Why ``hit`` was returned (computed here from the hit's explanation, as :meth:`Memory.explain`)."""
        if not isinstance(hit, Hit):
            raise InputError("explain() takes a Hit returned by search()")
        return explain_text(hit)

    def _history(self, turn_id: str) -> _Call:
        validate_turn_id(turn_id)
        return _Call("GET", self._path(f"turns/{_segment(turn_id)}/history"), read=lambda data: data["versions"])

    def _messages(self, conversation: str, session: str | None, last: int | None, before: str | None) -> _Call:
        validate_messages_query(conversation, session, last, before)
        params = {k: v for k, v in (("session", session), ("last", last), ("before", before)) if v is not None}
        return _Call("GET", self._path(f"conversations/{_segment(conversation)}/messages"), {"params": params},
                     lambda data: data["messages"])

    def _correct(self, turn_id: str, text: str | None, speaker: str | None, caption: str | None, metadata: Any) -> _Call:
        validate_correction(turn_id, text, speaker, caption, metadata)
        body = {k: v for k, v in (("text", text), ("speaker", speaker), ("caption", caption),
                                  ("metadata", dict(metadata) if isinstance(metadata, Mapping) else metadata)) if v is not None}
        return _Call("PATCH", self._path(f"turns/{_segment(turn_id)}"), _json(body))

    def _entity(self, name: str, mentions: int, related: int) -> _Call:
        validate_entity_query(name, mentions, related)
        return _Call("GET", self._path(f"entities/{_segment(name)}"), {"params": {"mentions": mentions, "related": related}},
                     lambda data: data["entity"])

    def _entities(self, label: str | None, limit: int) -> _Call:
        validate_entities_query(label, limit)
        params: dict[str, Any] = {"limit": limit, **({"label": label} if label is not None else {})}
        return _Call("GET", self._path("entities"), {"params": params}, lambda data: data["entities"])

    def _forget(self, conversation: str | None, session: str | None, before: Any, turn: str | list[str] | None,
                metadata: Any = None) -> _Call:
        body = {"conversation": conversation, "session": session,
                "before": _sent_time(before),
                "turn": [turn] if isinstance(turn, str) else turn,
                "metadata": dict(metadata) if isinstance(metadata, Mapping) else metadata}
        return _Call("POST", self._path("forget"), _json({k: v for k, v in body.items() if v is not None}))

    def _timezone(self) -> _Call:
        return _Call("GET", self._path("timezone"), {}, lambda data: data["timezone"])

    def _set_timezone(self, name: str | None) -> _Call:
        # refused here as Memory refuses it; sent by its name, so "local" is the zone of the caller's machine
        sent = None if name is None else zone_name(name)
        return _Call("PUT", self._path("timezone"), _json({"timezone": sent}), lambda data: data["timezone"])

    def _cypher(self, query: str, params: Mapping[str, Any] | None) -> _Call:
        if params is not None and not isinstance(params, Mapping):
            raise InputError(f"params: expected a mapping of parameter names to values, got {type(params).__name__}")
        return _Call("POST", self._path("cypher"), _json({"query": query, "params": dict(params or {})}),
                     lambda data: data["rows"])


_NAMESPACES = _Call("GET", "/v1/namespaces", read=lambda data: data["namespaces"])
_HEALTH = _Call("GET", "/healthz")


class Client(_Calls):
    """One namespace of a served memory, over HTTP.

    Code written against :class:`~graphmem.Memory` runs against a server: ``add``,
    ``ingest``, ``search`` (the same :class:`~graphmem.hits.Hit` objects), ``explain``,
    ``context``, ``history``, ``messages``, ``correct``, ``entity``, ``entities``, ``forget``, ``stats``, ``check`` and ``cypher``
    (read-only) take the same arguments. Reports come back as the dicts their ``to_dict()`` gives.
    :class:`AsyncClient` has the same methods, awaited.

    Args:
        url: the server, e.g. ``http://127.0.0.1:8765``.
        token: the server's bearer token, if it has one.
        namespace: the tenant to read and write.
        timeout: seconds to wait for an answer (ingests of big files take a while).

    Raises:
        ConfigurationError: ``url`` is not an http(s) URL; ``namespace`` is one :meth:`Memory.open`
            refuses, or holds ``/``; ``token`` holds a character outside printable ASCII (the spaces
            and line end around it are dropped, as ``graphmem serve`` drops them from its own).

    Example:
        >>> from graphmem import Client
        >>> with Client("http://127.0.0.1:8765", namespace="alice") as memory:     # doctest: +SKIP
        ...     memory.add([{"speaker": "Alice", "text": "I moved to Lisbon."}], conversation="chat")
        ...     print(memory.search("Where does Alice live?", k=3)[0].text)
    """

    def __init__(self, url: str, token: str | None = None, *, namespace: str = "default", timeout: float = 300.0) -> None:
        self.url = _url(url)
        import httpx

        self.namespace = _served_namespace(namespace)
        token = bearer_token(token)
        self._http = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"} if token else {},
                                  timeout=timeout)
        self._closed = False

    # ------------------------------------------------------------------ plumbing
    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool; the Client refuses use afterwards. Idempotent."""
        if not self._closed:
            self._closed = True
            self._http.close()

    def __repr__(self) -> str:
        return f"Client({self.url!r}, namespace={self.namespace!r}{', closed' if self._closed else ''})"

    def _request(self, call: _Call) -> Any:
        if self._closed:
            raise ClosedError("this Client is closed")
        try:
            return self._http.request(call.method, call.path, **call.kwargs)
        except Exception as exc:
            failure = _failed(self, exc)
            if failure is None:
                raise
            raise failure from exc

    def _send(self, call: _Call) -> Any:
        return call.read(_answer(self.url, self._request(call)))

    # ------------------------------------------------------------------ the Memory surface
    def add(self, messages: Mapping[str, Any] | Sequence[Mapping[str, Any]], *, conversation: str, session: str | None = None,
            session_started_at: str | None = None) -> dict[str, Any]:
        """Add one message or a list of them (``{speaker|role, text|content, timestamp?, id?, caption?, metadata?}``, or
        a model API's messages as :meth:`Memory.add` reads them) to ``conversation``; returns the add report."""
        return self._send(self._add(messages, conversation, session, session_started_at))

    def ingest(self, source: str | os.PathLike[str], format: str = "auto", *, conversation_id: str | None = None) -> dict[str, Any]:
        """Upload a file (any format :meth:`Memory.ingest` reads) and ingest it; returns the ingest report."""
        return self._send(self._ingest(source, format, conversation_id))

    def search(self, query: str, k: int = 10, unit: str = "turn", strategy: str = "auto", time_range: Any = None, *,
               speaker: str | None = None, conversation: str | None = None, session: str | None = None,
               as_of: Any = None, exclude: Any = None, metadata: Mapping[str, Any] | None = None) -> list[Hit]:
        """Search; the same arguments (filters, ``exclude`` and ``metadata`` included) and :class:`Hit`
        objects as :meth:`Memory.search` (``as_of`` left out is the server's now)."""
        return self._send(self._search(query, k, unit, strategy, time_range, speaker, conversation, session, as_of, exclude,
                                       metadata))

    def context(self, query: str, k: int = 5, max_chars: int | None = CONTEXT_CHARS, **search: Any) -> str:
        """A prompt-ready text block of the memories relevant to ``query`` (see :meth:`Memory.context`)."""
        return context_text(query, self.search(query, k=k, **search), max_chars)

    def recall(self, conversation: str, query: str | None = None, *, recent: int = RECENT_MESSAGES, k: int = 5,
               max_chars: int | None = CONTEXT_CHARS, **search: Any) -> str:
        """A conversation's recent messages and the memories recalled beside them, in one request (see
        :meth:`Memory.recall`)."""
        return self._send(self._recall(conversation, query, recent, k, max_chars, search))

    def history(self, turn_id: str) -> list[dict[str, Any]]:
        """Every text a turn has had, oldest first (see :meth:`Memory.history`)."""
        return self._send(self._history(turn_id))

    def messages(self, conversation: str, *, session: str | None = None, last: int | None = None,
                 before: str | None = None) -> list[dict[str, Any]]:
        """A conversation's messages, oldest first (see :meth:`Memory.messages`)."""
        return self._send(self._messages(conversation, session, last, before))

    def correct(self, turn_id: str, text: str | None = None, *, speaker: str | None = None, caption: str | None = None,
                metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Correct a stored message by its turn id (see :meth:`Memory.correct`); returns the add report."""
        return self._send(self._correct(turn_id, text, speaker, caption, metadata))

    def entity(self, name: str, *, mentions: int = 10, related: int = 10) -> dict[str, Any] | None:
        """What the memory knows about an entity, or None (see :meth:`Memory.entity`)."""
        return self._send(self._entity(name, mentions, related))

    def entities(self, *, label: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The namespace's entities, most events first (see :meth:`Memory.entities`)."""
        return self._send(self._entities(label, limit))

    def forget(self, conversation: str | None = None, session: str | None = None, before: Any = None, *,
               turn: str | list[str] | None = None, metadata: Mapping[str, Any] | None = None) -> dict[str, int]:
        """Forget turns and what derives only from them (see :meth:`Memory.forget`); returns counts."""
        return self._send(self._forget(conversation, session, before, turn, metadata))

    def timezone(self) -> str:
        """The namespace's time zone (see :meth:`Memory.timezone`)."""
        return self._send(self._timezone())

    def set_timezone(self, name: str | None) -> str:
        """Store the namespace's time zone for every client (see :meth:`Memory.set_timezone`;
        ``"local"`` is this machine's zone, not the server's); returns the zone in force."""
        return self._send(self._set_timezone(name))

    def stats(self) -> dict[str, Any]:
        """Counts of nodes per label, relationships per type and topics per granularity."""
        return self._send(_Call("GET", self._path("stats")))

    def check(self) -> dict[str, Any]:
        """The integrity report of the namespace, as a dict (``ok`` is True when the graph is sound)."""
        return self._send(_Call("GET", self._path("check")))

    def cypher(self, query: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run read-only Cypher with parameters (``$namespace`` is this Client's namespace)."""
        return self._send(self._cypher(query, params))

    def namespaces(self) -> list[str]:
        """Every namespace of the served store that holds data."""
        return self._send(_NAMESPACES)

    def health(self) -> bool:
        """True when a graphmem server answers ``/healthz`` that it serves; False when nothing answers
        in time, or something else does (a proxy's 502 or 504, another server's page).

        Raises:
            ClosedError: the Client is closed.
        """
        try:
            return _healthy(self._request(_HEALTH))
        except StoreUnavailableError:
            return False


class AsyncClient(_Calls):
    """:class:`Client` for asyncio agents: the same methods and arguments, awaited, over one
    ``httpx.AsyncClient`` (requests from many tasks share its connections; the event loop
    never blocks on the network). ``explain`` needs no request, and is awaited as
    :meth:`AsyncMemory.explain` is.

    Example:
        >>> from graphmem import AsyncClient
        >>> async def main():                                                       # doctest: +SKIP
        ...     async with AsyncClient("http://127.0.0.1:8765", namespace="alice") as memory:
        ...         await memory.add({"role": "user", "content": "I moved to Lisbon."}, conversation="chat")
        ...         hits = await memory.search("Where does Alice live?", k=3)
    """

    def __init__(self, url: str, token: str | None = None, *, namespace: str = "default", timeout: float = 300.0) -> None:
        self.url = _url(url)
        import httpx

        self.namespace = _served_namespace(namespace)
        token = bearer_token(token)
        self._options: dict[str, Any] = {"base_url": self.url, "timeout": timeout,
                                         "headers": {"Authorization": f"Bearer {token}"} if token else {}}
        # one connection pool per event loop: a pool's connections belong to the loop that opened them (a
        # second asyncio.run() with one client raised RuntimeError "Event loop is closed")
        self._pools: dict[Any, httpx.AsyncClient] = {}
        self._closed = False

    @property
    def _http(self) -> Any:
        """The running event loop's connection pool (made at its first request)."""
        import asyncio

        import httpx

        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            for gone in [other for other in self._pools if other.is_closed()]:
                del self._pools[gone]  # a finished asyncio.run()'s pool (its loop can no longer close it: let it go)
            pool = self._pools[loop] = httpx.AsyncClient(**self._options)
        return pool

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection pools; the client refuses use afterwards. Idempotent."""
        import asyncio

        if not self._closed:
            self._closed = True
            pool = self._pools.pop(asyncio.get_running_loop(), None)
            if pool is not None:
                await pool.aclose()
            self._pools.clear()  # (another loop's pool goes with that loop)

    def __repr__(self) -> str:
        return f"AsyncClient({self.url!r}, namespace={self.namespace!r}{', closed' if self._closed else ''})"

    async def _request(self, call: _Call) -> Any:
        if self._closed:
            raise ClosedError("this AsyncClient is closed")
        try:
            return await self._http.request(call.method, call.path, **call.kwargs)
        except Exception as exc:
            failure = _failed(self, exc)
            if failure is None:
                raise
            raise failure from exc

    async def _send(self, call: _Call) -> Any:
        return call.read(_answer(self.url, await self._request(call)))

    async def explain(self, hit: Hit) -> str:  # type: ignore[override]
        """:meth:`Client.explain`, awaited as :meth:`AsyncMemory.explain` is (no request is made)."""
        return _Calls.explain(self, hit)

    async def add(self, messages: Mapping[str, Any] | Sequence[Mapping[str, Any]], *, conversation: str,
                  session: str | None = None, session_started_at: str | None = None) -> dict[str, Any]:
        """:meth:`Client.add`."""
        return await self._send(self._add(messages, conversation, session, session_started_at))

    async def ingest(self, source: str | os.PathLike[str], format: str = "auto", *,
                     conversation_id: str | None = None) -> dict[str, Any]:
        """:meth:`Client.ingest` (the file is read before the upload)."""
        return await self._send(self._ingest(source, format, conversation_id))

    async def search(self, query: str, k: int = 10, unit: str = "turn", strategy: str = "auto", time_range: Any = None, *,
                     speaker: str | None = None, conversation: str | None = None, session: str | None = None,
                     as_of: Any = None, exclude: Any = None, metadata: Mapping[str, Any] | None = None) -> list[Hit]:
        """:meth:`Client.search`."""
        return await self._send(self._search(query, k, unit, strategy, time_range, speaker, conversation, session, as_of,
                                             exclude, metadata))

    async def context(self, query: str, k: int = 5, max_chars: int | None = CONTEXT_CHARS, **search: Any) -> str:
        """:meth:`Client.context`."""
        return context_text(query, await self.search(query, k=k, **search), max_chars)

    async def recall(self, conversation: str, query: str | None = None, *, recent: int = RECENT_MESSAGES, k: int = 5,
                     max_chars: int | None = CONTEXT_CHARS, **search: Any) -> str:
        """:meth:`Client.recall`."""
        return await self._send(self._recall(conversation, query, recent, k, max_chars, search))

    async def history(self, turn_id: str) -> list[dict[str, Any]]:
        """:meth:`Client.history`."""
        return await self._send(self._history(turn_id))

    async def messages(self, conversation: str, *, session: str | None = None, last: int | None = None,
                       before: str | None = None) -> list[dict[str, Any]]:
        """:meth:`Client.messages`."""
        return await self._send(self._messages(conversation, session, last, before))

    async def correct(self, turn_id: str, text: str | None = None, *, speaker: str | None = None, caption: str | None = None,
                      metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """:meth:`Client.correct`."""
        return await self._send(self._correct(turn_id, text, speaker, caption, metadata))

    async def entity(self, name: str, *, mentions: int = 10, related: int = 10) -> dict[str, Any] | None:
        """:meth:`Client.entity`."""
        return await self._send(self._entity(name, mentions, related))

    async def entities(self, *, label: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """:meth:`Client.entities`."""
        return await self._send(self._entities(label, limit))

    async def forget(self, conversation: str | None = None, session: str | None = None, before: Any = None, *,
                     turn: str | list[str] | None = None, metadata: Mapping[str, Any] | None = None) -> dict[str, int]:
        """:meth:`Client.forget`."""
        return await self._send(self._forget(conversation, session, before, turn, metadata))

    async def timezone(self) -> str:
        """:meth:`Client.timezone`."""
        return await self._send(self._timezone())

    async def set_timezone(self, name: str | None) -> str:
        """:meth:`Client.set_timezone`."""
        return await self._send(self._set_timezone(name))

    async def stats(self) -> dict[str, Any]:
        """:meth:`Client.stats`."""
        return await self._send(_Call("GET", self._path("stats")))

    async def check(self) -> dict[str, Any]:
        """:meth:`Client.check`."""
        return await self._send(_Call("GET", self._path("check")))

    async def cypher(self, query: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """:meth:`Client.cypher`."""
        return await self._send(self._cypher(query, params))

    async def namespaces(self) -> list[str]:
        """:meth:`Client.namespaces`."""
        return await self._send(_NAMESPACES)

    async def health(self) -> bool:
        """:meth:`Client.health`."""
        try:
            return _healthy(await self._request(_HEALTH))
        except StoreUnavailableError:
            return False
