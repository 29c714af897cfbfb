"""Pastimes stated in text: what a question asking for someone's activities or hobbies is answered with.

A general list of leisure activities (sports and exercise, outdoor pursuits, arts and crafts, music,
games, home and social pastimes), written from common knowledge rather than from any evaluation
conversation; matched as whole words, case-insensitively. A question such as "What activities does
Melanie partake in?" shares no word with "we went camping two weekends ago", and a sentence
embedding places "activities" far from "camping"; the answer-type rule of the retrieval router
(:data:`graphmem.retrieve.cues.ACTIVITY_LABELS`) lifts the turns this finds.
"""

from __future__ import annotations

import re

__all__ = ["states_activity", "ACTIVITY_WORDS"]

ACTIVITY_WORDS = (
    # sports and exercise
    "running", "jogging", "swimming", "cycling", "biking", "hiking", "climbing", "bouldering", "skiing",
    "snowboarding", "skating", "ice skating", "skateboarding", "surfing", "kayaking", "canoeing", "rowing",
    "sailing", "fishing", "hunting", "camping", "yoga", "pilates", "boxing", "kickboxing", "martial arts",
    "karate", "judo", "taekwondo", "tennis", "golf", "soccer", "football", "basketball", "baseball",
    "softball", "volleyball", "hockey", "rugby", "cricket", "badminton", "table tennis", "ping pong",
    "bowling", "archery", "fencing", "gymnastics", "dancing", "ballet", "salsa", "zumba", "working out",
    "workouts?", "weightlifting", "lifting weights", "crossfit", "marathons?", "triathlons?",
    "horseback riding", "horse riding", "scuba diving", "diving", "snorkeling", "snorkelling",
    "paddleboarding", "rock climbing", "mountain biking", "walking", "meditation", "meditating",
    # arts, crafts and music
    "painting", "drawing", "sketching", "sculpting", "pottery", "ceramics", "knitting", "crocheting",
    "sewing", "quilting", "embroidery", "woodworking", "wood carving", "photography", "calligraphy",
    "scrapbooking", "jewelry making", "crafting", "origami", "journaling", "writing poetry", "blogging",
    "singing", "choir", "playing the guitar", "playing guitar", "playing the piano", "playing piano",
    "playing the violin", "playing violin", "playing the drums", "playing drums", "acting", "theater",
    "theatre", "karaoke",
    # games, home and social pastimes
    "reading", "cooking", "baking", "gardening", "birdwatching", "bird watching", "volunteering",
    "traveling", "travelling", "road trips?", "picnics?", "board games", "video games", "gaming", "chess",
    "puzzles", "stargazing", "kite flying", "barbecues?", "bbqs?",
)

_WORD = re.compile(r"[a-z]+")


def _forms(entry: str) -> list[tuple[str, ...]]:
    """The word sequences of an entry of :data:`ACTIVITY_WORDS` (``s?``: with and without a plural s)."""
    if entry.endswith("s?"):
        return [tuple(entry[:-2].split()), tuple(entry[:-1].split())]
    return [tuple(entry.split())]


_SINGLE = frozenset(form[0] for entry in ACTIVITY_WORDS for form in _forms(entry) if len(form) == 1)
_PHRASES: dict[str, list[tuple[str, ...]]] = {}
for _entry in ACTIVITY_WORDS:
    for _form in _forms(_entry):
        if len(_form) > 1:
            _PHRASES.setdefault(_form[0], []).append(_form[1:])


def states_activity(text: str) -> bool:
    """Whether ``text`` names a pastime ("we went camping", "my pottery class", "I've been running
    farther"): what a question asking for someone's activities or hobbies is answered with. Whole
    words, case-insensitively (set lookups: a regex of the whole list took 70 us a turn, this 5-6)."""
    words = _WORD.findall(text.lower())
    if not _SINGLE.isdisjoint(words):
        return True
    if _PHRASES.keys().isdisjoint(words):
        return False
    return any(tuple(words[i + 1: i + 1 + len(rest)]) == rest
               for i, word in enumerate(words) for rest in _PHRASES.get(word, ()))
