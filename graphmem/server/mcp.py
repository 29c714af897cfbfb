"""MCP tools over a :class:`MemoryHub`, built with the official ``mcp`` SDK.

The same tools are served over stdio (``graphmem mcp``) and streamable HTTP (``/mcp`` on
``graphmem serve``): ``add_memory``, ``search_memory``, ``explain_memory``, ``forget_memory``,
``memory_stats``.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Optional

from graphmem.entities import profile_text, validate_entity_query
from graphmem.errors import ConfigurationError, GraphmemError, InputError
from graphmem.hits import (RECENT_MESSAGES, Hit, captioned, excerpt, explain_text, recall_plan, recall_text, validate_recall,
                           with_caption)
from graphmem.loaders.chat import validate_messages_query
from graphmem.server.hub import MAX_FORGET_TURNS, MemoryHub
from graphmem.server.validation import validation_message

__all__ = ["build_mcp", "format_hit", "format_message", "run_stdio"]

logger = logging.getLogger(__name__)

INSTRUCTIONS = (
    "graphmem is a long-term memory of conversations. Call add_memory with new messages as they are said; "
    "call recall_memory before answering (the conversation's recent messages and the memories relevant to the "
    "latest one) or search_memory for a question about the past (each hit line gives date, speaker, session and "
    "source id, and ends with the memory's id); explain_memory says why a hit was found; forget_memory with "
    "turn=<id> forgets one message and correct_memory corrects one; recent_messages reads a conversation's last "
    "messages back; about_entity says what is known about a person, place or thing by name."
)


#: characters of a hit's text on a search_memory line, by default
LINE_CHARS = 400


def format_hit(rank: int, hit: Hit, query: str = "", max_chars: int = LINE_CHARS) -> str:
    """One compact line: ``1. [2024-05-04 · Maya · session 1 · D1:2] text (score 0.610 · turn:9f2c...)``,
    ending with the hit's node id (what ``forget_memory`` takes as ``turn``). A text longer than
    ``max_chars`` is cut to the part around ``query``'s words (:func:`graphmem.hits.excerpt`)."""
    date = (hit.timestamp or "")[:10]
    where = " · ".join(x for x in (date, hit.speaker or "", f"session {hit.session_key or hit.session_number}"
                                   if (hit.session_key or hit.session_number is not None) else "", hit.source_id or "") if x)
    text = with_caption(hit, " ".join(excerpt(hit.text, query, max_chars).split()))
    return f"{rank}. [{where}] {text} (score {hit.score:.3f} · {hit.node_id})"


def format_message(entry: dict[str, Any], max_chars: int = LINE_CHARS) -> str:
    """One line of :meth:`graphmem.Memory.messages`: ``[2024-05-04 18:02 · Maya · session 1 · m7] text (turn:9f2c...)``,
    the text cut to ``max_chars`` (its beginning kept, the cut marked …; :func:`graphmem.hits.excerpt`)."""
    stamp = (entry.get("timestamp") or "").replace("T", " ")[:16]
    where = " · ".join(x for x in (stamp, entry.get("speaker") or "", f"session {entry.get('session')}",
                                   entry.get("source_id") or "") if x)
    text = captioned(" ".join(excerpt(entry.get("text") or "", "", max_chars).split()), entry.get("caption"))
    return f"[{where}] {text} ({entry.get('turn_id')})"


def _import_mcp() -> Any:
    try:
        from mcp.server.mcpserver import MCPServer
    except ImportError as exc:  # pragma: no cover - a dependency of graphmem
        raise ConfigurationError("the MCP server needs the 'mcp' package (>= 2): pip install 'mcp>=2'") from exc
    return MCPServer


def _with_plain_argument_errors(server_class: Any) -> Any:
    """``server_class`` whose tools name arguments that fail their schema in one line of graphmem's
    words (:func:`~graphmem.server.validation.validation_message`), as the HTTP API does; the SDK
    passes on pydantic's report, several lines ending in a documentation link."""
    from pydantic import ValidationError

    from mcp.server.mcpserver.exceptions import ToolError

    class Server(server_class):
        async def run_stdio_over(self, stdin: Any, stdout: Any) -> None:
            """:meth:`run_stdio_async` over the given streams (see :mod:`graphmem.server.stdio`), the
            SDK's stdio transport that reads ``stdin`` and writes ``stdout``."""
            from mcp.server.stdio import stdio_server

            lowlevel = self._lowlevel_server  # as the SDK's run_stdio_async runs it (it has no public name)
            async with stdio_server(stdin=stdin, stdout=stdout) as (read_stream, write_stream):
                await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())

        async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
            try:
                return await super().call_tool(name, arguments, context)
            except ToolError as exc:
                if not isinstance(exc.__cause__, ValidationError):
                    raise
                raise ToolError(f"Error executing tool {name}: {validation_message(exc.__cause__.errors())}") from exc.__cause__

    return Server


def build_mcp(hub: MemoryHub, default_namespace: str = "default") -> Any:
    """An ``MCPServer`` whose tools read and write ``hub``.

    Every tool takes an optional ``namespace`` (default ``default_namespace``). Tools raise on
    bad input with the CLI's one-line messages; the SDK turns them into tool errors.
    """
    server = _with_plain_argument_errors(_import_mcp())(name="graphmem", instructions=INSTRUCTIONS, log_level="WARNING")
    async def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
        from anyio import to_thread

        from mcp.server.mcpserver.exceptions import ToolError

        try:
            return await to_thread.run_sync(lambda: hub.run(fn, *args, **kwargs))
        except GraphmemError as exc:  # a ToolError's message reaches the client (other errors stay in the server log)
            raise ToolError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None

    def hits_for(namespace: str, query: str, k: int, unit: str, strategy: str, since: Optional[str], until: Optional[str],
                 as_of: Optional[str] = None, exclude: Optional[list[str]] = None, metadata: Optional[dict[str, Any]] = None,
                 **filters: Optional[str]) -> list[Hit]:
        time_range = (since, until) if since or until else None
        hub.check_metadata(metadata)
        if not hub.exists(namespace):
            from graphmem.retrieve.types import validate_query

            validate_query(query, k, unit, strategy, time_range, speaker=filters.get("speaker"),
                           conversation=filters.get("conversation"), session=filters.get("session"), as_of=as_of,
                           tz=hub.settings.tz, exclude=exclude, metadata=metadata)
            return []
        with hub.using(namespace) as memory:
            return memory.search(query, k=k, unit=unit, strategy=strategy, time_range=time_range, as_of=as_of,
                                 exclude=exclude, metadata=metadata, **filters)

    @server.tool(description="Store new conversation messages in long-term memory. messages: a list of "
                             "{speaker (or role), text (or content), timestamp? (ISO 8601 or Unix seconds; default: now), id?}; a chat API's messages (content "
                             "parts, tool calls) may be passed as they are. Returns a JSON report.")
    async def add_memory(messages: list[dict[str, Any]], conversation: str, session: Optional[str] = None,
                         session_started_at: Optional[str] = None, namespace: Optional[str] = None) -> str:
        ns = default_namespace if namespace is None else namespace

        def run() -> dict[str, Any]:
            return hub.add(ns, messages, conversation=conversation, session=session, session_started_at=session_started_at)

        return json.dumps(await call(run), ensure_ascii=False, default=str)

    @server.tool(description="Search long-term memory. Returns one line per hit: rank, [date · speaker · session · "
                             "source id], text, (score · id). unit: turn|event|episode|session; strategy: "
                             "auto|dense|lexical|activation|expansion; since/until: ISO 8601 dates; speaker, "
                             "conversation: only what that speaker said, only that conversation; as_of: when the "
                             "question is asked (ISO 8601, default now), for 'last Saturday' or 'two weeks ago' in it; "
                             "max_chars: the most characters of each hit's text (default 400; a longer text is cut "
                             "to its sentences around the query's words, each cut marked …); exclude: ids (ending "
                             "search_memory or recent_messages lines) not to return, such as the messages you hold already; "
                             "metadata: only messages whose metadata holds every key: value given (as add_memory stored it).")
    async def search_memory(query: str, k: int = 5, unit: str = "turn", strategy: str = "auto", since: Optional[str] = None,
                            until: Optional[str] = None, speaker: Optional[str] = None, conversation: Optional[str] = None,
                            namespace: Optional[str] = None, as_of: Optional[str] = None, max_chars: int = LINE_CHARS,
                            exclude: Optional[list[str]] = None, metadata: Optional[dict[str, Any]] = None) -> str:
        if max_chars < 1:
            from mcp.server.mcpserver.exceptions import ToolError

            raise ToolError(f"max_chars must be at least 1, not {max_chars}")
        hits = await call(hits_for, default_namespace if namespace is None else namespace, query, k, unit, strategy, since, until, as_of, exclude,
                          metadata, speaker=speaker, conversation=conversation)
        if not hits:
            return "no memories found"
        return "\n".join(format_hit(i, hit, query, max_chars) for i, hit in enumerate(hits, 1))

    @server.tool(description="Search, then explain why the hit at `rank` (1 = best) was found: strategies, "
                             "contributions, seeds, edges.")
    async def explain_memory(query: str, rank: int = 1, k: int = 5, unit: str = "turn", strategy: str = "auto",
                             namespace: Optional[str] = None) -> str:
        if rank < 1 or rank > k:
            from mcp.server.mcpserver.exceptions import ToolError

            raise ToolError(f"rank must be between 1 and k ({k})")
        hits = await call(hits_for, default_namespace if namespace is None else namespace, query, k, unit, strategy, None, None)
        if len(hits) < rank:
            return f"only {len(hits)} hit(s) for this query"
        return explain_text(hits[rank - 1])

    @server.tool(description="Forget turns (and everything derived only from them): messages by id (turn: the id "
                             "ending a search_memory line, or a list of them), a conversation, one of its sessions, "
                             "everything before an ISO 8601 date, and/or the messages whose metadata holds every "
                             "key: value of `metadata`. Returns counts as JSON.")
    async def forget_memory(conversation: Optional[str] = None, session: Optional[str] = None, before: Optional[str] = None,
                            turn: Optional[str | list[str]] = None, namespace: Optional[str] = None,
                            metadata: Optional[dict[str, Any]] = None) -> str:
        ns = default_namespace if namespace is None else namespace

        def run() -> dict[str, int]:
            hub.check_metadata(metadata)
            if isinstance(turn, list) and len(turn) > MAX_FORGET_TURNS:
                raise InputError(f"turn: at most {MAX_FORGET_TURNS} turn ids, got {len(turn)}")
            with hub.write_lock(ns), hub.using(ns) as memory:
                return memory.forget(conversation, session, before, turn=turn, metadata=metadata)

        return json.dumps(await call(run))

    @server.tool(description="Correct a stored message: turn is its id (the id ending its search_memory or "
                             "recent_messages line); text is what it should say. The old text is kept as a version and "
                             "never found again. Returns a JSON report.")
    async def correct_memory(turn: str, text: str, namespace: Optional[str] = None) -> str:
        ns = default_namespace if namespace is None else namespace

        def run() -> dict[str, Any]:
            if not hub.exists(ns):
                raise InputError(f"turn_id: no turn {turn!r} in namespace {ns!r}")
            with hub.write_lock(ns), hub.using(ns) as memory:
                return memory.correct(turn, text).to_dict()

        return json.dumps(await call(run), ensure_ascii=False)

    @server.tool(description="Everything to read before answering in a conversation, in one call: its last `recent` "
                             "messages (default 20; 0 for none), then the `k` memories (default 5) most relevant to `query` "
                             "from every conversation (default query: the latest message's text), none of them already in "
                             "the recent messages. max_chars: the most characters of each text (default 400).")
    async def recall_memory(conversation: str, query: Optional[str] = None, recent: int = RECENT_MESSAGES, k: int = 5,
                            namespace: Optional[str] = None, max_chars: int = LINE_CHARS) -> str:
        ns = default_namespace if namespace is None else namespace

        def run() -> str:
            if hub.exists(ns):
                with hub.using(ns) as memory:
                    return memory.recall(conversation, query, recent=recent, k=k, max_chars=max_chars)
            from graphmem.retrieve.types import validate_query

            validate_recall(conversation, query, recent, max_chars)  # a namespace never written: nothing to read or recall
            found, _ = recall_plan(conversation, query, [], {})
            validate_query(found, k, "turn", "auto")
            return recall_text(conversation, [], found, [], max_chars, recent)

        return await call(run)

    @server.tool(description="Read a conversation's messages back, oldest first: the last `last` (default 20; 0 for all) "
                             "of `conversation`, or of one of its sessions. One line per message: [date time · speaker · "
                             "session · message id] text (turn id, what forget_memory takes as turn). max_chars: the most "
                             "characters of each message (default 400).")
    async def recent_messages(conversation: str, last: int = 20, session: Optional[str] = None, namespace: Optional[str] = None,
                              max_chars: int = LINE_CHARS) -> str:
        if last < 0 or max_chars < 1:
            from mcp.server.mcpserver.exceptions import ToolError

            raise ToolError("last must be 0 (all) or more, and max_chars at least 1")
        ns = default_namespace if namespace is None else namespace

        def run() -> list[dict[str, Any]]:
            validate_messages_query(conversation, session, last or None)
            if not hub.exists(ns):
                return []
            with hub.using(ns) as memory:
                return memory.messages(conversation, session=session, last=last or None)

        entries = await call(run)
        if not entries:
            return f"no messages in conversation {conversation!r}" + (f" session {session!r}" if session else "")
        return "\n".join(format_message(entry, max_chars) for entry in entries)

    @server.tool(description="What the memory knows about a person, place, organisation, work or other named entity: "
                             "its kind, aliases (nicknames resolved), how often and when it came up, the entities it comes "
                             "up with, and the latest `mentions` (default 5) messages that name it, each with its turn id. "
                             "name: any spelling or alias. For what was said about a topic, use search_memory.")
    async def about_entity(name: str, mentions: int = 5, namespace: Optional[str] = None, max_chars: int = LINE_CHARS) -> str:
        if max_chars < 1:
            from mcp.server.mcpserver.exceptions import ToolError

            raise ToolError("max_chars must be at least 1")
        ns = default_namespace if namespace is None else namespace

        def run() -> Optional[dict[str, Any]]:
            validate_entity_query(name, mentions)
            if not hub.exists(ns):
                return None
            with hub.using(ns) as memory:
                return memory.entity(name, mentions=mentions)

        profile = await call(run)
        if profile is None:
            return f"no entity named {name!r} in memory (search_memory finds what was said about it)"
        return profile_text(profile, max_chars)

    @server.tool(description="Counts of what the memory holds: nodes per label, relationships per type, topics.")
    async def memory_stats(namespace: Optional[str] = None) -> str:
        ns = default_namespace if namespace is None else namespace

        def run() -> dict[str, Any]:
            if not hub.exists(ns):  # no Memory is kept for a namespace never written
                return {"namespace": ns, "nodes": {}, "relationships": {}, "topics": {}}
            with hub.using(ns) as memory:
                return memory.stats()

        return json.dumps(await call(run), default=str)

    return server


def run_stdio(hub: MemoryHub, default_namespace: str = "default") -> int | None:
    """Serve the MCP tools over stdin/stdout until the client closes the stream or a stop signal
    (SIGTERM, SIGINT, SIGHUP) comes; either way the calls in flight are answered first (within
    :data:`graphmem.server.stdio.GRACE_SECONDS`) and a call after the stop is refused
    (:mod:`graphmem.server.stdio`). For a process graphmem owns (``graphmem mcp``): it takes
    the stop signals, stdin and stdout while it runs.

    Returns:
        The signal that stopped it, if one did.
    """
    from graphmem.server.stdio import serve_stdio

    server = build_mcp(hub, default_namespace)
    return serve_stdio(server.run_stdio_over)
