"""Small conversations written for the tests (never the dev data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel

GARDEN = {
    "id": "garden-chat",
    "speakers": ["Alice", "Ben"],
    "sessions": [
        {"id": "1", "started_at": "2024-04-06T09:30:00", "turns": [
            {"id": "G1:1", "speaker": "Alice", "text": "I planted tomatoes and basil in the back garden yesterday."},
            {"id": "G1:2", "speaker": "Ben", "text": "Nice! Did you use the raised beds you built last spring?"},
            {"id": "G1:3", "speaker": "Alice", "text": "Yes, the cedar raised beds. The soil is finally good."},
            {"id": "G1:4", "speaker": "Ben", "text": "My violin recital is next Friday at the town hall."},
            {"id": "G1:5", "speaker": "Alice", "text": "Good luck! Which piece are you playing?"},
            {"id": "G1:6", "speaker": "Ben", "text": "Bach's Partita in D minor, the Chaconne."},
        ]},
        {"id": "2", "started_at": "2024-04-20T18:00:00", "turns": [
            {"id": "G2:1", "speaker": "Ben", "text": "The recital went well, the audience gave a standing ovation."},
            {"id": "G2:2", "speaker": "Alice", "text": "Slugs ate half of my basil seedlings this week."},
            {"id": "G2:3", "speaker": "Ben", "text": "Try copper tape around the beds, it keeps slugs away."},
            {"id": "G2:4", "speaker": "Alice", "text": "I will. My sister Clara is visiting from Lyon next month."},
        ]},
    ],
}


def write_native(directory: Path, doc: dict | None = None, name: str = "garden.json") -> Path:
    """Write ``doc`` (default GARDEN) as a native JSON file and return its path."""
    path = Path(directory) / name
    path.write_text(json.dumps(doc or GARDEN, ensure_ascii=False), encoding="utf-8")
    return path


def _session(number: int, started_at: str, lines: list[tuple[str, str]]) -> dict:
    return {"id": str(number), "started_at": started_at,
            "turns": [{"id": f"T{number}:{i}", "speaker": speaker, "text": text} for i, (speaker, text) in enumerate(lines, 1)]}


TRAVEL = {
    "id": "travel-chat",
    "speakers": ["Nora", "Sam"],
    "sessions": [
        _session(1, "2024-03-02T10:00:00", [
            ("Nora", "I just booked flights to Lisbon for the second week of May."),
            ("Sam", "Lisbon is lovely in spring. Are you staying in Alfama?"),
            ("Nora", "Yes, a small guesthouse near the castle, with a terrace."),
            ("Sam", "Try the custard tarts at the bakery in Belem, they are famous."),
            ("Nora", "I will! My brother Tom recommended the tram ride too."),
            ("Sam", "Tram 28 gets very crowded, go early in the morning."),
            ("Nora", "Switching topics, my marathon training is going badly."),
            ("Sam", "What happened? Is your knee hurting again?"),
            ("Nora", "The knee is fine, but I only ran twenty miles last week."),
            ("Sam", "The Boston Marathon is in April, you still have time."),
            ("Nora", "My coach Maria says I should add interval sessions."),
            ("Sam", "Intervals on Tuesdays worked well for me last year."),
        ]),
        _session(2, "2024-03-16T19:30:00", [
            ("Sam", "I adopted a puppy yesterday, a beagle called Pepper."),
            ("Nora", "Congratulations! How old is Pepper?"),
            ("Sam", "Ten weeks. She chewed my running shoes this morning."),
            ("Nora", "Puppies chew everything. Did you buy her toys?"),
            ("Sam", "A rope toy and a squeaky duck from the pet store on Elm Street."),
            ("Nora", "Take her to puppy classes, the one at Riverside Park is good."),
            ("Sam", "Good idea, I signed up for the Saturday class."),
            ("Nora", "By the way, I finished reading Project Hail Mary."),
            ("Sam", "Did you like it? I loved the ending."),
            ("Nora", "Rocky was my favourite character, the whole book was funny."),
            ("Sam", "Andy Weir writes science so well, The Martian was great too."),
        ]),
        _session(3, "2024-04-20T08:15:00", [
            ("Nora", "I ran the Boston Marathon on Monday in four hours and ten minutes!"),
            ("Sam", "That is amazing, congratulations on finishing!"),
            ("Nora", "The intervals helped a lot, Maria was right."),
            ("Sam", "Pepper learned to sit and stay at her class."),
            ("Nora", "Smart dog! Are you bringing her to the lake in June?"),
            ("Sam", "Yes, we rented a cabin at Lake Tahoe for a week."),
            ("Nora", "I leave for Lisbon in three weeks, I still need a guidebook."),
            ("Sam", "I can lend you my Lonely Planet guide to Portugal."),
            ("Nora", "Thanks, I will pick it up on Friday."),
        ]),
    ],
}


# the shapes of the SDKs' own message objects (pydantic models), written here: the SDKs are not dependencies
class OpenAIMessage(BaseModel):  # openai.types.chat.ChatCompletionMessage
    content: Optional[str] = None
    refusal: Optional[str] = None
    role: str = "assistant"
    annotations: Optional[list[dict[str, Any]]] = None
    audio: Optional[dict[str, Any]] = None
    function_call: Optional[dict[str, Any]] = None
    tool_calls: Optional[list[dict[str, Any]]] = None


class AnthropicMessage(BaseModel):  # anthropic.types.Message
    id: str
    type: str = "message"
    role: str = "assistant"
    content: list[dict[str, Any]]
    model: str = "claude"
    stop_reason: Optional[str] = "end_turn"
    stop_sequence: Optional[str] = None
    usage: dict[str, int] = {"input_tokens": 10, "output_tokens": 5}
