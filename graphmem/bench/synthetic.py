"""Synthetic conversational memories for latency benchmarks.

:func:`generate_memory` composes a memory of ``n_turns`` turns from templates and
vocabulary, deterministically from a seed: conversations of sessions of turns between two
speakers, each turn one or two clauses ("I went hiking at Lake Tahoe with Maya last
weekend."), each clause an Event involving the people, places, activities and objects it
names (the speaker too), episodes of 4-10 turns, and an ``ASSOCIATED`` link from a turn to
the previous turn that said the same clause.

Embeddings, honestly abbreviated: embedding 100k turns with the real model takes about
10 minutes on two cores, so only the distinct *clauses* are embedded for real (a pool of a
few thousand, cached under ``~/.cache/graphmem/bench``). An event's embedding is the real
embedding of its clause; a turn's is the normalised mean of its clauses' real embeddings
plus small deterministic Gaussian noise (sigma 0.01 per dimension, cosine ~0.98 to the
noiseless vector), so no two turns share a vector (events get half that noise); episodes and sessions are normalised
means of their turns, as in ingestion. The vectors therefore have the real model's
geometry (clusters, neighbourhoods), which is what ANN and activation latency depend on;
they are not the embeddings the model would give the concatenated turn text. Being the
configured model's vectors, they are recorded as that model's (:mod:`graphmem.model_identity`) where
a benchmark stores them (``bench add``); ``bench query``'s store holds none.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

__all__ = ["SyntheticMemory", "clause_pool", "generate_memory", "bench_cache_dir", "query_texts"]

logger = logging.getLogger(__name__)

GENERATOR_VERSION = 1

_PEOPLE = """Maya Jonas Priya Tom Lena Omar Sofia Ravi Chloe Mateo Aisha Ben Hana Luca Zoe Kai Nora Felix Ines Yusuf
Clara Diego Mei Sam Elena Arjun Lucy Noah Fatima Leo Greta Hugo Amara Ivan Julia Kofi Rosa Theo Yara Emil""".split()
_PLACES = """Lake Tahoe|the farmers market|Lisbon|the climbing gym|Yosemite|the public library|Kyoto|the community garden|Berlin|
the animal shelter|Cape Cod|the art museum|Montreal|the jazz club|the botanical garden|Reykjavik|the pottery studio|Seattle|
the night market|the old harbour|Marrakesh|the ski resort|Vienna|the bakery on Main Street|the lighthouse|Oaxaca|the book fair|
the riverside park|Edinburgh|the science center|Buenos Aires|the flea market|the rooftop bar|Santorini|the concert hall|Nairobi|
the campsite by the lake|the yoga retreat|Prague|the vineyard|Hanoi|the surf school|the county fair|Copenhagen|the dog park""".replace("\n", "").split("|")
_ACTIVITIES = """hiking|painting|baking sourdough|rock climbing|swimming|learning Spanish|playing chess|running a half marathon|
pottery|birdwatching|camping|salsa dancing|knitting|volunteering|photography|gardening|playing the violin|surfing|cycling|
writing poetry|skiing|kayaking|journaling|woodworking|meditating|playing guitar|stargazing|fishing|sketching|cooking curry|
reading mystery novels|learning to code|doing yoga|ice skating|making candles|brewing kombucha|scuba diving|sewing|bowling""".replace("\n", "").split("|")
_OBJECTS = """a vintage camera|a new bike|a handmade quilt|a telescope|a sourdough starter|a puppy named Biscuit|a ukulele|
a pair of hiking boots|an old typewriter|a watercolour set|a kayak|a cookbook|a record player|a bonsai tree|a sketchbook|
a used car|a fountain pen|a chess set|a tent|a sewing machine|a kitten named Miso|a drone|a yoga mat|a snowboard|a pottery wheel|
an electric guitar|a bird feeder|a hammock|a espresso machine|a board game""".replace("\n", "").split("|")
_FEELINGS = """amazing|exhausting|peaceful|nerve-racking|so much fun|a bit overwhelming|really relaxing|unforgettable|
harder than I expected|surprisingly easy|emotional|inspiring""".replace("\n", "").split("|")
_RELATIONS = "sister brother cousin neighbour coworker friend aunt uncle roommate mentor".split()
_WHEN = ["last weekend", "yesterday", "this morning", "last summer", "two weeks ago", "on Saturday", "last night",
         "over the holidays", "last month", "on my birthday"]

_TEMPLATES = [
    "I went {activity} at {place} with {person} {when}",
    "{person} and I tried {activity} {when} and it was {feeling}",
    "my {relation} {person} gave me {object} {when}",
    "I finally bought {object} {when}",
    "we visited {place} {when} and it was {feeling}",
    "I started {activity} lessons with {person}",
    "{person} is moving to {place} next month",
    "I have been {activity} every week since {when}",
    "my {relation} {person} loves {activity}",
    "I met {person} at {place} {when}",
    "I am planning a trip to {place} with my {relation}",
    "{activity} at {place} was {feeling}",
    "I lost {object} at {place} {when}",
    "{person} taught me {activity} {when}",
    "I signed up for a {activity} class at {place}",
    "my {relation} {person} recommended {place} for {activity}",
    "I fixed up {object} with {person} {when}",
    "I read about {activity} and now I want to try it",
    "we celebrated {person}'s birthday at {place}",
    "I volunteered at {place} with {person} {when}",
]

_QUESTIONS = [
    "When did {person} go {activity}?",
    "What did {person} give their {relation}?",
    "Where did I meet {person}?",
    "Who taught me {activity}?",
    "What happened at {place}?",
    "How was the trip to {place}?",
    "What does my {relation} like to do?",
    "Did I ever try {activity} with {person}?",
    "Where is {person} moving?",
    "What did I buy {when}?",
    "Which places did I visit with {person}?",
    "How long have I been {activity}?",
]


def bench_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/graphmem/bench`` (``~/.cache/graphmem/bench``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "graphmem" / "bench"


def _fill(template: str, rng: np.random.Generator) -> tuple[str, dict[str, str]]:
    slots = {
        "person": _PEOPLE[rng.integers(len(_PEOPLE))],
        "place": _PLACES[rng.integers(len(_PLACES))],
        "activity": _ACTIVITIES[rng.integers(len(_ACTIVITIES))],
        "object": _OBJECTS[rng.integers(len(_OBJECTS))],
        "feeling": _FEELINGS[rng.integers(len(_FEELINGS))],
        "relation": _RELATIONS[rng.integers(len(_RELATIONS))],
        "when": _WHEN[rng.integers(len(_WHEN))],
    }
    used = {k: v for k, v in slots.items() if "{" + k + "}" in template}
    return template.format(**slots), used


def clause_texts(size: int, seed: int = 7) -> tuple[list[str], list[dict[str, str]]]:
    """``size`` distinct clauses composed from the templates, with the slot values each uses."""
    rng = np.random.default_rng(seed)
    texts: list[str] = []
    slots: list[dict[str, str]] = []
    seen: set[str] = set()
    attempts = 0
    while len(texts) < size and attempts < size * 50:
        attempts += 1
        text, used = _fill(_TEMPLATES[rng.integers(len(_TEMPLATES))], rng)
        text = text[0].upper() + text[1:]
        if text not in seen:
            seen.add(text)
            texts.append(text)
            slots.append(used)
    return texts, slots


def clause_pool(size: int, encode: Callable[[Sequence[str]], np.ndarray], model: str, seed: int = 7,
                cache: Path | None = None) -> tuple[list[str], list[dict[str, str]], np.ndarray]:
    """The clause pool with real embeddings, cached on disk by content and model.

    Args:
        size: number of distinct clauses.
        encode: the embedder's ``encode``.
        model: the model name (part of the cache key).
        seed: generator seed.
        cache: cache directory (default :func:`bench_cache_dir`).

    Returns:
        ``(texts, slots, vectors)``.
    """
    texts, slots = clause_texts(size, seed)
    key = hashlib.sha256(json.dumps([GENERATOR_VERSION, model, texts]).encode()).hexdigest()[:16]
    directory = cache or bench_cache_dir()
    path = directory / f"clauses-{key}.npy"
    if path.exists():
        vectors = np.load(path)
        if vectors.shape[0] == len(texts):
            return texts, slots, vectors
    logger.info("embedding %d clauses for the synthetic memories (cached in %s)", len(texts), path)
    vectors = np.asarray(encode(texts), dtype=np.float32)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npy")
    np.save(tmp, vectors)
    os.replace(tmp, path)
    return texts, slots, vectors


def query_texts(count: int, seed: int = 11) -> list[str]:
    """``count`` distinct benchmark questions (names, places, activities from the vocabulary)."""
    rng = np.random.default_rng(seed)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < count:
        text, _ = _fill(_QUESTIONS[rng.integers(len(_QUESTIONS))], rng)
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms > 0, norms, 1.0)).astype(np.float32)


@dataclass
class SyntheticMemory:
    """A generated memory: the rows the projection is built from, and the unit vectors.

    Attributes:
        namespace: the namespace the ids belong to.
        rows: keyword arguments of :meth:`graphmem.retrieve.projection.MemoryProjection.from_rows`.
        vectors: unit kind -> ``(ids, matrix)``.
        conversations: conversation rows (``{id, key}``) for the store.
    """

    namespace: str
    rows: dict[str, list[dict]] = field(default_factory=dict)
    vectors: dict[str, tuple[list[str], np.ndarray]] = field(default_factory=dict)
    conversations: list[dict] = field(default_factory=list)

    @property
    def n_turns(self) -> int:
        """Number of turns."""
        return len(self.rows.get("turns", []))


def generate_memory(
    n_turns: int,
    texts: Sequence[str],
    slots: Sequence[dict[str, str]],
    clause_vectors: np.ndarray,
    namespace: str = "bench",
    seed: int = 0,
    session_turns: int = 25,
    sessions_per_conversation: int = 40,
    noise: float = 0.01,
) -> SyntheticMemory:
    """Compose a memory of ``n_turns`` turns (see the module docstring). Deterministic.

    Args:
        n_turns: number of turns.
        texts, slots, clause_vectors: the clause pool (:func:`clause_pool`).
        namespace: the namespace the ids are made for.
        seed: generator seed.
        session_turns: turns per session.
        sessions_per_conversation: sessions per conversation.
        noise: per-dimension standard deviation of the noise added to turn vectors.

    Returns:
        The :class:`SyntheticMemory`.
    """
    from graphmem.extract.resolve import normalise_name
    from graphmem.ids import node_id

    rng = np.random.default_rng(seed)
    dim = clause_vectors.shape[1]
    n_sessions = -(-n_turns // session_turns)
    start = datetime(2020, 1, 1, 10, 0)
    mem = SyntheticMemory(namespace)
    turns, sessions, episodes, part_of, events, involves, associations = [], [], [], [], [], [], []
    entities: dict[str, dict] = {}
    turn_vecs = np.zeros((n_turns, dim), dtype=np.float32)
    event_vec_rows: list[int] = []
    event_ids: list[str] = []
    last_seen: dict[int, str] = {}
    speakers_of: dict[str, tuple[str, str]] = {}

    def entity(name: str, label: str) -> str:
        key = normalise_name(name)
        if key not in entities:
            entities[key] = {"id": node_id(namespace, "entity", key), "key": key, "name": name, "label": label}
        return entities[key]["id"]

    t = 0
    for s in range(n_sessions):
        conv_index = s // sessions_per_conversation
        conv_key = f"synthetic-{conv_index:04d}"
        if conv_key not in speakers_of:
            pair = rng.choice(len(_PEOPLE), 2, replace=False)
            speakers_of[conv_key] = (f"{_PEOPLE[pair[0]]} Q", f"{_PEOPLE[pair[1]]} R")
            mem.conversations.append({"id": node_id(namespace, "conversation", conv_key), "key": conv_key})
        number = s % sessions_per_conversation + 1
        when = start + timedelta(days=s, hours=int(rng.integers(0, 10)))
        sid = node_id(namespace, "session", conv_key, str(number))
        sessions.append({"id": sid, "conversation_id": conv_key, "key": str(number), "number": number,
                         "started_at": when.isoformat()})
        in_session = min(session_turns, n_turns - t)
        cuts = [0]
        while cuts[-1] < in_session:
            cuts.append(min(in_session, cuts[-1] + int(rng.integers(4, 11))))
        for a, b in zip(cuts, cuts[1:]):
            eid = node_id(namespace, "episode", conv_key, str(number), a, b - 1)
            episodes.append({"id": eid, "conversation_id": conv_key, "start_seq": number * 1_000_000 + a,
                             "started_at": (when + timedelta(minutes=a)).isoformat(),
                             "ended_at": (when + timedelta(minutes=b - 1)).isoformat(), "_turns": (t + a, t + b)})
        for index in range(in_session):
            speaker = speakers_of[conv_key][index % 2]
            picks = rng.integers(len(texts), size=1 if rng.random() < 0.7 else 2)
            clauses = [texts[c] for c in picks]
            tid = node_id(namespace, "turn", conv_key, str(number), index)
            turns.append({"id": tid, "session_id": sid, "conversation_id": conv_key, "seq": number * 1_000_000 + index,
                          "speaker": speaker, "text": ". ".join(clauses) + ".", "caption": None,
                          "source_id": f"S{s + 1}:{index + 1}", "timestamp": (when + timedelta(minutes=index)).isoformat()})
            vec = clause_vectors[picks].mean(axis=0) + rng.normal(0.0, noise, dim).astype(np.float32)
            turn_vecs[t] = vec / (np.linalg.norm(vec) or 1.0)
            speaker_entity = entity(speaker, "PERSON")
            for e_index, clause in enumerate(picks):
                vid = node_id(namespace, "event", tid, e_index)
                events.append({"id": vid, "turn_id": tid, "speaker": speaker, "text": texts[clause],
                               "timestamp": turns[-1]["timestamp"]})
                event_ids.append(vid)
                event_vec_rows.append(int(clause))
                involves.append({"event_id": vid, "entity_id": speaker_entity, "role": "speaker"})
                for slot, value in slots[clause].items():
                    if slot in ("person", "place", "activity", "object"):
                        label = {"person": "PERSON", "place": "GPE", "activity": "CONCEPT", "object": "CONCEPT"}[slot]
                        involves.append({"event_id": vid, "entity_id": entity(value, label), "role": "mention"})
                earlier = last_seen.get(int(clause))
                if earlier is not None and earlier != tid:
                    associations.append({"src": tid, "dst": earlier, "w": 0.8, "granularity": "turn"})
                last_seen[int(clause)] = tid
            t += 1
    for episode in episodes:
        a, b = episode.pop("_turns")
        part_of.extend({"turn_id": turns[i]["id"], "episode_id": episode["id"]} for i in range(a, b))
    mem.rows = {"turns": turns, "sessions": sessions, "episodes": episodes, "part_of": part_of, "events": events,
                "involves": involves, "entities": list(entities.values()), "associations": associations}
    episode_vecs = np.zeros((len(episodes), dim), dtype=np.float32)
    turn_index = {row["id"]: i for i, row in enumerate(turns)}
    members: dict[str, list[int]] = {}
    for row in part_of:
        members.setdefault(row["episode_id"], []).append(turn_index[row["turn_id"]])
    for i, episode in enumerate(episodes):
        episode_vecs[i] = turn_vecs[members[episode["id"]]].mean(axis=0)
    session_vecs = np.zeros((len(sessions), dim), dtype=np.float32)
    for i in range(len(sessions)):
        session_vecs[i] = turn_vecs[i * session_turns:(i + 1) * session_turns].mean(axis=0)
    mem.vectors = {
        "turn": ([r["id"] for r in turns], turn_vecs),
        # events keep their clause's real vector, with half the turns' noise so that the ANN
        # index does not hold thousands of identical points
        "event": (event_ids, _normalise(clause_vectors[np.asarray(event_vec_rows, dtype=np.int64)]
                                        + rng.normal(0.0, noise / 2, (len(event_ids), dim)).astype(np.float32))),
        "episode": ([e["id"] for e in episodes], _normalise(episode_vecs)),
        "session": ([s["id"] for s in sessions], _normalise(session_vecs)),
    }
    return mem
