"""``graphmem.Client``: a memory served by ``graphmem serve``, with the methods of :class:`Memory`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence
from urllib.parse import quote

from graphmem.errors import ClosedError, ConfigurationError, GraphmemError, InputError, StorageError, StoreUnavailableError
from graphmem.hits import CONTEXT_CHARS, Hit, context_text, explain_text
from graphmem.loaders.chat import is_sdk_message, sdk_message, validate_messages_query

__all__ = ["Client"]


class Client:
    """One namespace of a served memory, over HTTP.

    Code written against :class:`~graphmem.Memory` runs against a server: ``add``,
    ``ingest``, ``search`` (the same :class:`~graphmem.hits.Hit` objects), ``explain``,
    ``context``, ``history``, ``forget``, ``stats``, ``check`` and ``cypher`` (read-only) take the
    same arguments.
    Reports come back as the dicts their ``to_dict()`` gives.

    Args:
        url: the server, e.g. ``http://127.0.0.1:8765``.
        token: the server's bearer token, if it has one.
        namespace: the tenant to read and write.
        timeout: seconds to wait for an answer (ingests of big files take a while).

    Raises:
        ConfigurationError: ``url`` is not an http(s) URL.

    Example:
        >>> from graphmem import Client
        >>> with Client("http://127.0.0.1:8765", namespace="alice") as memory:     # doctest: +SKIP
        ...     memory.add([{"speaker": "Alice", "text": "I moved to Lisbon."}], conversation="chat")
        ...     print(memory.search("Where does Alice live?", k=3)[0].text)
    """

    def __init__(self, url: str, token: str | None = None, *, namespace: str = "default", timeout: float = 300.0) -> None:
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise ConfigurationError(f"server URL {url!r}: expected http://host:port or https://...")
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url.rstrip("/")
        self.namespace = namespace
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)
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

    def _path(self, endpoint: str) -> str:
        return f"/v1/namespaces/{quote(self.namespace, safe='')}/{endpoint}"

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        if self._closed:
            raise ClosedError("this Client is closed")
        import httpx

        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise StoreUnavailableError(f"{self.url}: no answer within the timeout") from exc
        except httpx.HTTPError as exc:
            raise StoreUnavailableError(f"{self.url}: cannot reach the server ({exc})") from exc
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.is_success:
            return data
        message = data.get("error") if isinstance(data, dict) else None
        message = message or f"HTTP {response.status_code}"
        if response.status_code in (400, 404, 413, 422):
            raise InputError(message)
        if response.status_code == 401:
            raise ConfigurationError(f"{self.url}: {message}")
        if response.status_code == 503:
            raise StoreUnavailableError(message)
        raise StorageError(message) if response.status_code >= 500 else GraphmemError(message)

    # ------------------------------------------------------------------ the Memory surface
    def add(self, messages: Mapping[str, Any] | Sequence[Mapping[str, Any]], *, conversation: str, session: str | None = None,
            session_started_at: str | None = None) -> dict[str, Any]:
        """Add one message or a list of them (``{speaker|role, text|content, timestamp?, id?, caption?, metadata?}``, or
        a model API's messages as :meth:`Memory.add` reads them) to ``conversation``; returns the add report."""
        if isinstance(messages, Mapping) or is_sdk_message(messages):
            messages = [messages]
        elif not isinstance(messages, Sequence) or isinstance(messages, (str, bytes)):
            raise InputError(f"messages: expected a message (a mapping) or a list of them, got {type(messages).__name__}")
        sent = []
        for position, message in enumerate(messages):
            if is_sdk_message(message):  # a model SDK's object: its JSON form, which the server reads as Memory.add does
                message = sdk_message(message, json=True)
            if not isinstance(message, Mapping):
                raise InputError(f"messages[{position}]: expected a mapping with speaker and text, got {type(message).__name__}")
            sent.append(dict(message))
        body = {"conversation": conversation, "messages": sent}
        if session is not None:
            body["session"] = session
        if session_started_at is not None:
            body["session_started_at"] = session_started_at
        return self._request("POST", self._path("messages"), json=body)

    def ingest(self, source: str | os.PathLike[str], format: str = "auto", *, conversation_id: str | None = None) -> dict[str, Any]:
        """Upload a file (any format :meth:`Memory.ingest` reads) and ingest it; returns the ingest report."""
        path = Path(source)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        form = {"format": format, **({"conversation_id": conversation_id} if conversation_id else {})}
        return self._request("POST", self._path("ingest"), files={"file": (path.name, content)}, data=form)

    def search(self, query: str, k: int = 10, unit: str = "turn", strategy: str = "auto", time_range: Any = None, *,
               speaker: str | None = None, conversation: str | None = None, session: str | None = None,
               as_of: Any = None) -> list[Hit]:
        """Search; the same arguments (filters included) and :class:`Hit` objects as :meth:`Memory.search`
        (``as_of`` left out is the server's now)."""
        body: dict[str, Any] = {"query": query, "k": k, "unit": unit, "strategy": strategy, "explain": True}
        for name, value in (("speaker", speaker), ("conversation", conversation), ("session", session)):
            if value is not None:
                body[name] = value
        if time_range is not None:
            body["time_range"] = [None if t is None else (t if isinstance(t, str) else t.isoformat()) for t in time_range]
        if as_of is not None:
            body["as_of"] = as_of if isinstance(as_of, str) else as_of.isoformat()
        data = self._request("POST", self._path("search"), json=body)
        return [Hit.from_dict(row) for row in data["hits"]]

    def context(self, query: str, k: int = 5, max_chars: int | None = CONTEXT_CHARS, **search: Any) -> str:
        """A prompt-ready text block of the memories relevant to ``query`` (see :meth:`Memory.context`)."""
        return context_text(query, self.search(query, k=k, **search), max_chars)

    def explain(self, hit: Hit) -> str:
        """Why ``hit`` was returned (computed here from the hit's explanation, as :meth:`Memory.explain`)."""
        if not isinstance(hit, Hit):
            raise InputError("explain() takes a Hit returned by search()")
        return explain_text(hit)

    def history(self, turn_id: str) -> list[dict[str, Any]]:
        """Every text a turn has had, oldest first (see :meth:`Memory.history`)."""
        if not isinstance(turn_id, str) or not turn_id.strip():
            raise InputError(f"turn_id: expected a turn id, got {turn_id!r}")
        return self._request("GET", self._path(f"turns/{quote(turn_id, safe='')}/history"))["versions"]

    def messages(self, conversation: str, *, session: str | None = None, last: int | None = None) -> list[dict[str, Any]]:
        """A conversation's messages, oldest first (see :meth:`Memory.messages`)."""
        validate_messages_query(conversation, session, last)
        params = {k: v for k, v in (("session", session), ("last", last)) if v is not None}
        return self._request("GET", self._path(f"conversations/{quote(conversation, safe='')}/messages"), params=params)["messages"]

    def forget(self, conversation: str | None = None, session: str | None = None, before: Any = None, *,
               turn: str | list[str] | None = None) -> dict[str, int]:
        """Forget turns and what derives only from them (see :meth:`Memory.forget`); returns counts."""
        body = {"conversation": conversation, "session": session,
                "before": before if before is None or isinstance(before, str) else before.isoformat(),
                "turn": [turn] if isinstance(turn, str) else turn}
        return self._request("POST", self._path("forget"), json={k: v for k, v in body.items() if v is not None})

    def stats(self) -> dict[str, Any]:
        """Counts of nodes per label, relationships per type and topics per granularity."""
        return self._request("GET", self._path("stats"))

    def check(self) -> dict[str, Any]:
        """The integrity report of the namespace, as a dict (``ok`` is True when the graph is sound)."""
        return self._request("GET", self._path("check"))

    def cypher(self, query: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run read-only Cypher with parameters (``$namespace`` is this Client's namespace)."""
        return self._request("POST", self._path("cypher"), json={"query": query, "params": dict(params or {})})["rows"]

    def namespaces(self) -> list[str]:
        """Every namespace of the served store that holds data."""
        return self._request("GET", "/v1/namespaces")["namespaces"]

    def health(self) -> bool:
        """True when the server answers ``/healthz``."""
        try:
            return self._request("GET", "/healthz").get("status") == "ok"
        except StoreUnavailableError:
            return False
