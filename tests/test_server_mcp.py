"""The MCP tools through the official SDK's own client: streamable HTTP at /mcp, and stdio."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio
import pytest

from conftest import settings_for
from graphmem.server import MemoryHub
from serving import running

TOOLS = {"add_memory", "search_memory", "explain_memory", "forget_memory", "memory_stats", "recent_messages", "about_entity",
         "correct_memory", "recall_memory"}
REPO = Path(__file__).resolve().parent.parent


def _text(result) -> str:
    assert not result.is_error, result
    return "\n".join(block.text for block in result.content if getattr(block, "type", "") == "text")


async def _exercise(client, namespace: str) -> None:
    tools = await client.list_tools()
    assert {tool.name for tool in tools.tools} >= TOOLS
    added = json.loads(_text(await client.call_tool("add_memory", {
        "namespace": namespace, "conversation": "trip", "session": "1", "session_started_at": "2024-06-01T09:00:00",
        "messages": [{"speaker": "Priya", "text": "We hiked to the glacier lake near Chamonix.", "id": "m1",
                      "timestamp": "2024-06-01T09:05:00"},
                     {"speaker": "Tom", "text": "The water was turquoise and freezing cold.", "id": "m2",
                      "metadata": {"mood": "cold"}}]})))
    assert added["added"] == 2
    recent = _text(await client.call_tool("recent_messages", {"namespace": namespace, "conversation": "trip", "last": 5}))
    assert recent.splitlines() == [
        f"[2024-06-01 09:05 · Priya · session 1 · m1] We hiked to the glacier lake near Chamonix. ({added['turn_ids'][0]})",
        f"[2024-06-01 09:00 · Tom · session 1 · m2] The water was turquoise and freezing cold. ({added['turn_ids'][1]})"], recent
    assert _text(await client.call_tool("recent_messages", {"namespace": namespace, "conversation": "trip", "last": 1})
                 ).startswith("[2024-06-01 09:00 · Tom")
    assert _text(await client.call_tool("recent_messages", {"namespace": namespace, "conversation": "nowhere"})
                 ) == "no messages in conversation 'nowhere'"
    toms_only = _text(await client.call_tool("search_memory", {"namespace": namespace, "query": "glacier lake", "k": 2,
                                                               "metadata": {"mood": "cold"}}))
    assert [line.split("] ")[0] for line in toms_only.splitlines()] == ["1. [2024-06-01 · Tom · session 1 · m2"], toms_only
    kept = json.loads(_text(await client.call_tool("forget_memory", {"namespace": namespace, "metadata": {"mood": "warm"}})))
    assert kept["turns"] == 0  # no message holds it: nothing forgotten
    for tool, arguments in (("forget_memory", {}), ("search_memory", {"query": "lake"})):  # the server's limit, as HTTP's
        refused = await client.call_tool(tool, {"namespace": namespace, **arguments, "metadata": {f"k{i}": i for i in range(101)}})
        assert refused.is_error and "metadata: at most 100 items, got 101" in " ".join(b.text for b in refused.content), tool
    for tool, arguments, said in (("add_memory", {"conversation": "c" * 1100, "messages": [{"speaker": "A", "text": "x"}]},
                                   "conversation: at most 1024 characters, got 1100"),
                                  ("forget_memory", {"turn": [f"turn:{i}" for i in range(1001)]}, "turn: at most 1000 turn ids, got 1001")):
        refused = await client.call_tool(tool, {"namespace": namespace, **arguments})
        assert refused.is_error and said in " ".join(b.text for b in refused.content), tool
    fixed = json.loads(_text(await client.call_tool("correct_memory", {"namespace": namespace, "turn": added["turn_ids"][1],
                                                                       "text": "The water was turquoise and icy cold."})))
    assert (fixed["corrected"], fixed["turn_ids"]) == (1, [added["turn_ids"][1]])
    assert "icy cold" in _text(await client.call_tool("recent_messages", {"namespace": namespace, "conversation": "trip", "last": 1}))
    unknown = await client.call_tool("correct_memory", {"namespace": namespace, "turn": "turn:nope", "text": "x"})
    assert unknown.is_error and "no turn" in " ".join(b.text for b in unknown.content)
    recalled = _text(await client.call_tool("recall_memory", {"namespace": namespace, "conversation": "trip", "recent": 1,
                                                              "query": "Where did Priya hike?", "k": 1}))
    window, memories = recalled.split("\n\n")
    assert window.splitlines()[1] == "[2024-06-01 09:00 · Tom] The water was turquoise and icy cold.", recalled
    assert "glacier lake near Chamonix" in memories and "icy cold" not in memories, recalled
    about = _text(await client.call_tool("about_entity", {"namespace": namespace, "name": "chamonix"}))
    assert about.splitlines()[0].startswith("Chamonix (") and about.splitlines()[-1] == (
        f"- [2024-06-01 09:05 · Priya · trip · {added['turn_ids'][0]}] We hiked to the glacier lake near Chamonix."), about
    assert _text(await client.call_tool("about_entity", {"namespace": namespace, "name": "Zanzibar"})).startswith(
        "no entity named 'Zanzibar'")
    held = _text(await client.call_tool("search_memory", {"namespace": namespace, "query": "glacier lake", "k": 1,
                                                          "exclude": [added["turn_ids"][0]]}))
    assert "glacier lake" not in held and added["turn_ids"][1] in held, held
    found = _text(await client.call_tool("search_memory", {"namespace": namespace, "query": "Where did Priya hike?", "k": 2}))
    first = found.splitlines()[0]
    assert first.startswith("1. [2024-06-01 · Priya · session 1 · m1] We hiked to the glacier lake"), found
    toms = _text(await client.call_tool("search_memory", {"namespace": namespace, "query": "hike", "speaker": "Tom"}))
    assert [line.split("] ")[0] for line in toms.splitlines()] == ["1. [2024-06-01 · Tom · session 1 · m2"], toms
    assert _text(await client.call_tool("search_memory", {"namespace": namespace, "query": "hike",
                                                          "conversation": "other"})) == "no memories found"
    why = _text(await client.call_tool("explain_memory", {"namespace": namespace, "query": "Where did Priya hike?"}))
    assert "score" in why and "glacier" in why
    stats = json.loads(_text(await client.call_tool("memory_stats", {"namespace": namespace})))
    assert stats["nodes"]["Turn"] == 2
    bad = await client.call_tool("search_memory", {"namespace": namespace, "query": "x", "unit": "paragraph"})
    assert bad.is_error and "unknown unit" in " ".join(b.text for b in bad.content)
    # arguments that fail the tool's schema: one line in graphmem's words (pydantic's report, with its
    # documentation link, came through), and an empty namespace is refused (it wrote to the default one)
    for tool, arguments, said in (("search_memory", {"query": "x", "k": "five"}, "k: expected a whole number, got 'five'"),
                                  ("add_memory", {"conversation": "c"}, "messages: missing (it is required)"),
                                  ("add_memory", {"namespace": "", "conversation": "c", "messages": [{"speaker": "A", "text": "x"}]},
                                   "namespace")):
        wrong = await client.call_tool(tool, {"namespace": namespace, **arguments})
        text = " ".join(b.text for b in wrong.content)
        assert wrong.is_error and said in text and "pydantic" not in text and len(text.splitlines()) == 1, text
    asked = _text(await client.call_tool("search_memory", {"namespace": namespace, "query": "Where did we hike last Saturday?",
                                                           "as_of": "2024-06-03T12:00:00", "k": 1}))
    assert "m1] We hiked to the glacier lake" in asked, asked
    late = await client.call_tool("search_memory", {"namespace": namespace, "query": "hike", "as_of": "soon"})
    assert late.is_error and "as_of 'soon'" in " ".join(b.text for b in late.content)
    # a long message comes back as the part around the query's words, max_chars at most
    essay = " ".join([f"Note {i}: the trail was muddy and the weather kept changing all day." for i in range(40)]
                     + ["Priya lost her red water bottle at the Mer de Glace viewpoint."]
                     + [f"Remark {i}: we ate sandwiches and looked at the clouds for a while." for i in range(40)])
    added_essay = json.loads(_text(await client.call_tool("add_memory", {
        "namespace": namespace, "conversation": "notes", "messages": [{"speaker": "Priya", "text": essay}]})))
    lost = _text(await client.call_tool("search_memory", {"namespace": namespace, "query": "Where did Priya lose her water bottle?",
                                                          "k": 1, "conversation": "notes", "max_chars": 200}))
    assert "lost her red water bottle at the Mer de Glace" in lost and "Note 0:" not in lost, lost
    assert len(lost) < 200 + 120, lost  # the text, two cut marks, the head and the tail
    refused = await client.call_tool("search_memory", {"namespace": namespace, "query": "bottle", "max_chars": 0})
    assert refused.is_error and "max_chars" in " ".join(b.text for b in refused.content)
    json.loads(_text(await client.call_tool("forget_memory", {"namespace": namespace, "turn": added_essay["turn_ids"][0]})))
    # one message, by the id ending its search line
    tom_id = toms.splitlines()[0].rsplit(" · ", 1)[1].rstrip(")")
    assert tom_id == added["turn_ids"][1], (toms, added)
    one = json.loads(_text(await client.call_tool("forget_memory", {"namespace": namespace, "turn": tom_id})))
    assert one["turns"] == 1
    assert _text(await client.call_tool("search_memory", {"namespace": namespace, "query": "hike", "speaker": "Tom"})) == "no memories found"
    unknown = json.loads(_text(await client.call_tool("forget_memory", {"namespace": namespace, "turn": ["turn:nope", tom_id]})))
    assert unknown["turns"] == 0, unknown
    empty = await client.call_tool("forget_memory", {"namespace": namespace, "turn": []})
    assert empty.is_error and "turn" in " ".join(b.text for b in empty.content)
    forgotten = json.loads(_text(await client.call_tool("forget_memory", {"namespace": namespace, "conversation": "trip"})))
    assert forgotten["turns"] == 1
    assert _text(await client.call_tool("search_memory", {"namespace": namespace, "query": "glacier lake"})) == "no memories found"


def test_mcp_over_streamable_http(tmp_path, embedder):
    from mcp import Client

    hub = MemoryHub.open(str(tmp_path / "store"), settings_for(tmp_path))
    try:
        with running(hub) as url:
            async def main() -> None:
                async with Client(f"{url}/mcp") as client:
                    await _exercise(client, "mcp-http")

            anyio.run(main)
    finally:
        hub.close()


def test_mcp_over_http_needs_the_token(tmp_path, embedder):
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    hub = MemoryHub.open(str(tmp_path / "store"), settings_for(tmp_path))
    try:
        with running(hub, token="mcp-secret") as url:
            async def main() -> None:
                async with httpx2.AsyncClient(headers={"Authorization": "Bearer mcp-secret"}, timeout=60) as http:
                    async with Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
                        tools = await client.list_tools()
                        assert {t.name for t in tools.tools} >= TOOLS

            anyio.run(main)
    finally:
        hub.close()


@pytest.mark.slow
def test_mcp_over_stdio(tmp_path):
    from mcp import Client, StdioServerParameters

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
           "GRAPHMEM_JVM_HEAP": "512m", "GRAPHMEM_INDEX_DIR": str(tmp_path / "index")}
    params = StdioServerParameters(command=sys.executable, args=["-m", "graphmem.cli", "mcp", "--store", str(tmp_path / "store"),
                                                                 "--namespace", "mcp-stdio"], env=env)

    async def main() -> None:
        async with Client(params, read_timeout_seconds=180) as client:
            await _exercise(client, "mcp-stdio")

    anyio.run(main)
