"""Small conversations written for the tests (never the dev data)."""

from __future__ import annotations

import json
from pathlib import Path

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
