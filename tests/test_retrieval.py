"""Retrieval end to end: every strategy, unit mapping, time filtering, explanations,
determinism, updates on ingest and cache rebuilds -- on the real embedded database with the
real embedding model and the real ingest (episodes, events, entities, associations).

The conversation is written for these tests: each question below has one piece of evidence
built for the strategy it exercises.
"""

from __future__ import annotations

import json
import shutil
from contextlib import contextmanager
from datetime import date, datetime

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import Backend, memories, settings_for, write_conversation
from graphmem import InputError, Memory
from graphmem.cli import app
from graphmem.ids import namespace_slug
from graphmem.memory import STRATEGIES

PETS = {
    "format": "graphmem.conversation/1",
    "id": "retrieval-ana-raj",
    "speakers": ["Ana", "Raj"],
    "sessions": [
        {"id": "1", "started_at": "2024-03-02T10:00:00", "turns": [
            {"id": "R1:1", "speaker": "Ana", "text": "My brother Marco just adopted a greyhound named Pixel."},
            {"id": "R1:2", "speaker": "Raj", "text": "Lovely! Greyhounds are such gentle dogs."},
            {"id": "R1:3", "speaker": "Ana", "text": "Marco works night shifts as a nurse at St. Jude hospital."},
            {"id": "R1:4", "speaker": "Raj", "text": "I started learning the cello last week."},
            {"id": "R1:5", "speaker": "Ana", "text": "How are the lessons going so far?"},
            {"id": "R1:6", "speaker": "Raj", "text": "Slowly. My teacher Ingrid is very patient with me."},
        ]},
        {"id": "2", "started_at": "2024-05-18T19:30:00", "turns": [
            {"id": "R2:1", "speaker": "Raj", "text": "I ran the Lisbon marathon in four hours!"},
            {"id": "R2:2", "speaker": "Ana", "text": "Congratulations, that is a great time."},
            {"id": "R2:3", "speaker": "Ana", "text": "Yesterday Pixel chewed through the sofa cushions."},
            {"id": "R2:4", "speaker": "Raj", "text": "Ingrid says I can join the community orchestra in autumn."},
        ]},
    ],
}

LATER = {
    "format": "graphmem.conversation/1",
    "id": "retrieval-ana-raj",
    "speakers": ["Ana", "Raj"],
    "sessions": PETS["sessions"] + [
        {"id": "3", "started_at": "2024-09-07T08:15:00", "turns": [
            {"id": "R3:1", "speaker": "Raj", "text": "The orchestra rehearsal in the old chapel was wonderful."},
            {"id": "R3:2", "speaker": "Ana", "text": "Marco bought a red kayak on Sunday."},
        ]},
    ],
}


@pytest.fixture(scope="module")
def pets(tmp_path_factory, embedder):
    """One memory of the PETS conversation on the embedded store, shared by the module."""
    directory = tmp_path_factory.mktemp("retrieval")
    source = write_conversation(directory, PETS, "pets.json")
    with memories(Backend("embedded", str(directory / "store")), settings_for(directory)) as factory:
        memory = factory("retrieval-pets")
        memory.ingest(source)
        yield memory


def sources(hits):
    return [h.source_id for h in hits]


def matched(hits):
    """Sources of the hits with a positive score (lexical rankings end with 0-score units)."""
    return [h.source_id for h in hits if h.score > 0]


# ---------------------------------------------------------------------------- strategies
def test_lexical_finds_rare_names_and_only_matching_turns(pets):
    hits = pets.search("St. Jude", k=5, strategy="lexical")
    assert matched(hits) == ["R1:3"]  # only one turn shares a term ...
    assert len(hits) == 5 and all(h.score == 0 for h in hits[1:])  # ... the rest follow at 0, in memory order
    assert sources(hits[1:]) == ["R1:1", "R1:2", "R1:4", "R1:5"]
    assert hits[0].strategy == "lexical"
    assert "jude" in hits[0].explanation["lexical"]["terms"] and hits[1].explanation["lexical"]["terms"] == []


def test_dense_finds_a_paraphrase(pets):
    hits = pets.search("Did he complete a long-distance running race?", k=3, strategy="dense")
    assert hits[0].source_id == "R2:1"  # "I ran the Lisbon marathon": no shared content word
    assert hits[0].strategy == "dense" and 0 < hits[0].score <= 1
    assert matched(pets.search("Did he complete a long-distance running race?", k=3, strategy="lexical")) == []


def test_activation_reaches_a_turn_sharing_no_words_through_an_entity(pets):
    query = "What happened with Marco lately?"
    assert "R2:3" not in matched(pets.search(query, k=10, strategy="lexical"))
    hits = pets.search(query, k=5, strategy="activation")
    assert hits[0].source_id in {"R1:1", "R1:3"}  # the turns naming Marco
    pixel = next(h for h in hits if h.source_id == "R2:3")  # "Yesterday Pixel chewed ...": Marco's dog
    why = pixel.explanation["activation"]
    seeds = {s["label"] for s in why["seeds"]}
    assert "entity Marco" in seeds and "turn R2:3" not in seeds
    assert len(why["path"]) > 1 and why["path"][0] in seeds and why["path"][-1] == "turn R2:3"
    assert why["edges"] and all(e["amount"] > 0 for e in why["edges"])


def test_expansion_brings_in_the_neighbours_of_the_best_hit(pets):
    hits = pets.search("cello", k=6, strategy="expansion")
    assert hits[0].source_id == "R1:4"
    assert hits[0].explanation["expansion"]["edge"] == "seed"
    reply = next(h for h in hits if h.source_id == "R1:5")  # "How are the lessons going?"
    assert reply.explanation["expansion"]["seed"] == "turn R1:4"
    assert reply.explanation["expansion"]["edge"] in {"NEXT", "PART_OF", "ASSOCIATED"}
    assert "R1:5" not in matched(pets.search("cello", k=6, strategy="lexical"))


def test_auto_fuses_and_explains(pets):
    hits = pets.search("When did Raj run the marathon?", k=5)
    assert hits[0].source_id == "R2:1" and hits[0].strategy == "auto"
    parts = hits[0].explanation["contributions"]
    assert {"lexical:turn", "dense:turn"} <= set(parts)
    assert sum(parts.values()) == pytest.approx(hits[0].score, abs=1e-3)
    assert hits[0].explanation["route"]
    text = pets.explain(hits[0])
    assert "strategy auto" in text and "contributions:" in text and "lexical: BM25" in text and "marathon" in text
    dated = pets.search("What did Raj do in May 2024?", k=3)
    assert dated[0].session_number == 2 and "time" in dated[0].explanation["contributions"]


def _terms(explanation):
    """Every ``terms`` list in an explanation (the lexical strategy's, auto's lexical evidence)."""
    if isinstance(explanation, dict):
        found = [explanation["terms"]] if isinstance(explanation.get("terms"), list) else []
        return found + [t for value in explanation.values() for t in _terms(value)]
    return []


def test_a_long_hit_is_explained_from_the_terms_its_index_holds(tmp_path, embedder, monkeypatch):
    """Before, every search tokenised again the whole text of each hit it explained: with a
    pasted megabyte among the hits, 0.3 to 1.1 s a search. The terms come from the BM25 index
    now (the query alone is tokenised), and they are the same."""
    from graphmem.retrieve.lexical import Tokenizer

    long = "The kayak trip on the fjord was calm. " * 3000 + "Marco packed the red tent."
    query = "red tent kayak fjord"
    expected = sorted(set(Tokenizer()(query)) & set(Tokenizer()(long)))
    with memories(Backend("embedded", str(tmp_path / "store")), settings_for(tmp_path)) as factory:
        memory = factory("long-hit")
        memory.add([{"speaker": "Ana", "text": "We planned a camping weekend."}, {"speaker": "Raj", "text": long}],
                   conversation="c")
        for strategy in ("auto", "lexical"):
            memory.search(query, k=2, strategy=strategy)  # the indexes are built
        read: list[int] = []
        tokenize = Tokenizer.__call__

        def counted(self, text, drop=()):
            read.append(len(text))
            return tokenize(self, text, drop)
        monkeypatch.setattr(Tokenizer, "__call__", counted)
        for strategy in ("auto", "lexical"):
            top = memory.search(query, k=2, strategy=strategy)[0]
            assert top.text == long
            assert _terms(top.explanation) and all(terms == expected for terms in _terms(top.explanation))
        assert sum(read) < 1_000, read


def test_auto_credits_no_lexical_evidence_when_no_term_matches(pets):
    """A query sharing no term with any turn: BM25 scores every turn 0, and no hit's
    explanation may credit the lexical components (calibrating the all-zero scores must not
    lift every turn alike)."""
    query = "Did he complete a long-distance running race?"
    assert matched(pets.search(query, k=10, strategy="lexical")) == []
    hits = pets.search(query, k=5)
    assert hits[0].source_id == "R2:1"
    for hit in hits:
        parts = hit.explanation["contributions"]
        assert "lexical:turn" not in parts and "lexical:episode" not in parts, parts
        assert sum(parts.values()) == pytest.approx(hit.score, abs=1e-3)
    text = pets.explain(hits[0])
    assert "lexical:turn" not in text.split("route:")[0]


def test_auto_lowers_a_turn_that_asks_and_lifts_the_answer_and_says_so(pets):
    """R1:5 ("How are the lessons going so far?", Ana) asks and R1:6 (Raj) answers it. For turns
    and events auto lowers the question by ``question_turn_penalty`` (``question:turn``) and lifts
    the answer by ``answer_turn_bonus`` (``answer:turn``); sessions keep their turns' own scores."""
    from dataclasses import replace

    penalty = pets.settings.retrieval.question_turn_penalty
    bonus = pets.settings.retrieval.answer_turn_bonus
    assert penalty > 0 and bonus > 0
    plain = pets.settings.retrieval.with_(question_turn_penalty=0.0, answer_turn_bonus=0.0)
    off = Memory.attach(pets.store, pets.namespace, settings=replace(pets.settings, retrieval=plain))
    try:
        query = "How are Raj's cello lessons going?"
        on_hits = {h.source_id: h for h in pets.search(query, k=10)}
        off_hits = {h.source_id: h for h in off.search(query, k=10)}
        asked, told = on_hits["R1:5"], on_hits["R1:4"]
        assert asked.explanation["contributions"]["question:turn"] == pytest.approx(-penalty)
        assert sum(asked.explanation["contributions"].values()) == pytest.approx(asked.score, abs=1e-3)
        assert asked.score == pytest.approx(off_hits["R1:5"].score - penalty, abs=1e-6)
        assert "question:turn" not in told.explanation["contributions"]
        assert told.score == pytest.approx(off_hits["R1:4"].score, abs=1e-6)  # follows a statement
        answer = on_hits["R1:6"]
        assert answer.explanation["contributions"]["answer:turn"] == pytest.approx(bonus)
        assert answer.score == pytest.approx(off_hits["R1:6"].score + bonus, abs=1e-6)
        sessions_on = [(h.node_id, round(h.score, 6)) for h in pets.search(query, k=2, unit="session")]
        assert sessions_on == [(h.node_id, round(h.score, 6)) for h in off.search(query, k=2, unit="session")]
    finally:
        off.close()


def chat(conversation_id: str, speakers: tuple[str, ...], *sessions) -> dict:
    """A native conversation: each session is ``(id, started_at, [(turn id, speaker, text), ...])``."""
    return {"format": "graphmem.conversation/1", "id": conversation_id, "speakers": list(speakers),
            "sessions": [{"id": key, "started_at": started,
                          "turns": [{"id": i, "speaker": who, "text": text} for i, who, text in turns]}
                         for key, started, turns in sessions]}


CHATS = {
    "format": "graphmem.conversation/1",
    "id": "user-and-assistant",
    "speakers": ["user", "assistant"],
    "sessions": [
        {"id": "a", "started_at": "2024-03-02T10:00:00", "turns": [
            {"id": "A:1", "speaker": "user", "text": "I adopted a greyhound called Pixel and he chews everything."},
            {"id": "A:2", "speaker": "assistant", "text": "Greyhounds chew when bored. Give Pixel chew toys, walks and "
             "puzzle feeders; a greyhound that chews furniture often needs more exercise."},
        ]},
        {"id": "b", "started_at": "2024-03-09T10:00:00", "turns": [
            {"id": "B:1", "speaker": "user", "text": "Which laptop should I buy for video editing?"},
            {"id": "B:2", "speaker": "assistant", "text": "For video editing I recommended a laptop with 32 GB of memory "
             "and a dedicated graphics card; the greyhound-grey model is popular."},
        ]},
    ],
}


@contextmanager
def rule_on_and_off(tmp_path, conversation, namespace, constant):
    """The memory of ``conversation`` with the default retrieval constants, a view of the same
    memory with ``constant`` set to 0, and the constant's default (asserted positive)."""
    from dataclasses import replace

    source = write_conversation(tmp_path, conversation, f"{namespace}.json")
    settings = settings_for(tmp_path)
    value = getattr(settings.retrieval, constant)
    assert value > 0
    with Memory.open(tmp_path / "store", namespace, settings=settings) as memory:
        memory.ingest(source)
        off = Memory.attach(memory.store, memory.namespace,
                            settings=replace(settings, retrieval=settings.retrieval.with_(**{constant: 0.0})))
        try:
            yield memory, off, value
        finally:
            off.close()


def test_auto_lowers_an_assistants_turns_unless_asked_what_it_said(tmp_path):
    """In a user's chats with an assistant, auto lowers the assistant's turns by
    ``assistant_turn_penalty`` for every unit (``assistant:turn`` in the explanation): the
    memory is what the user told it. A question about what the assistant said ("you
    recommended") leaves them as they are."""
    with rule_on_and_off(tmp_path, CHATS, "chats", "assistant_turn_penalty") as (memory, off, penalty):
        query = "What does my greyhound Pixel chew?"
        on_hits = {h.source_id: h for h in memory.search(query, k=4)}
        off_hits = {h.source_id: h for h in off.search(query, k=4)}
        told = on_hits["A:2"]
        assert told.explanation["contributions"]["assistant:turn"] == pytest.approx(-penalty)
        assert sum(told.explanation["contributions"].values()) == pytest.approx(told.score, abs=1e-3)
        assert told.score == pytest.approx(off_hits["A:2"].score - penalty, abs=1e-6)
        assert "assistant:turn" not in on_hits["A:1"].explanation["contributions"]
        assert on_hits["A:1"].score == pytest.approx(off_hits["A:1"].score, abs=1e-6)
        sessions = memory.search(query, k=2, unit="session")
        assert sessions[0].session_key == "a" and "assistant:turn" not in sessions[0].explanation["contributions"]
        asked = "How much laptop memory was it that you recommended for video editing?"
        asked_hits = memory.search(asked, k=4)
        assert [(h.source_id, round(h.score, 6)) for h in asked_hits] == \
            [(h.source_id, round(h.score, 6)) for h in off.search(asked, k=4)]
        assert asked_hits[0].source_id == "B:2"
        assert "asks what the assistant said -> its turns are not lowered" in asked_hits[0].explanation["route"]


def assert_lifted_alone(on_hits, off_hits, turn, weight, kind):
    """``turn`` (and no other hit) raised by the answer-type rule: its contribution is ``weight``,
    its score the rule-off score plus ``weight``, and the route names ``kind``."""
    lifted = on_hits[turn]
    assert lifted.explanation["contributions"]["answer_type:turn"] == pytest.approx(weight)
    assert lifted.score == pytest.approx(off_hits[turn].score + weight, abs=1e-6)
    assert f"asks for {kind} -> turns that state one +{weight}" in lifted.explanation["route"]
    assert all("answer_type:turn" not in on_hits[t].explanation["contributions"] for t in on_hits if t != turn)


FAMILY = chat("family", ("user", "assistant"),
    ("party", "2024-02-01T10:00:00", [
        ("P:1", "user", "I'm planning a birthday party for my grandma and my parents, they all love old family photos."),
        ("P:2", "assistant", "A photo wall of family memories makes a lovely centrepiece."),
    ]),
    ("health", "2024-02-08T10:00:00", [
        ("H:1", "user", "Which exercises suit my folks? Mom is 55 and dad is 58."),
        ("H:2", "assistant", "Walking, swimming and light strength training suit most people in their fifties."),
    ]),
)


def test_auto_raises_turns_stating_an_age_when_a_question_asks_for_one(tmp_path):
    """"How old" / "what age" / "the age of" questions raise the turns whose text states an age
    ("Mom is 55") by ``answer_type_weight``; the others stay."""
    with rule_on_and_off(tmp_path, FAMILY, "family", "answer_type_weight") as (memory, off, weight):
        query = "What is the average age of my parents?"
        on_hits = {h.source_id: h for h in memory.search(query, k=4)}
        off_hits = {h.source_id: h for h in off.search(query, k=4)}
        assert max(off_hits.values(), key=lambda h: h.score).source_id == "P:1"  # "parents" in its words
        assert set(on_hits) == {"P:1", "P:2", "H:1", "H:2"}
        assert_lifted_alone(on_hits, off_hits, "H:1", weight, "an age")
        assert max(on_hits.values(), key=lambda h: h.score).source_id == "H:1"
        assert [h.session_key for h in memory.search(query, k=2, unit="session")][0] == "health"
        plain = "What do my parents love?"
        assert [(h.source_id, round(h.score, 6)) for h in memory.search(plain, k=4)] == \
            [(h.source_id, round(h.score, 6)) for h in off.search(plain, k=4)]


HABITS = chat("habits", ("user", "assistant"),
    ("gym", "2024-03-01T10:00:00", [
        ("G:1", "user", "Which exercises can I do with my parents at the gym?"),
        ("G:2", "assistant", "Rowing and light weights are good exercises to share."),
    ]),
    ("pool", "2024-03-08T10:00:00", [
        ("W:1", "user", "Dad and I swim at the lake three times a week now."),
        ("W:2", "assistant", "Open-water swimming is great, stay close to the shore."),
    ]),
)


def test_auto_raises_turns_stating_a_frequency_when_a_question_asks_how_often(tmp_path):
    """"How often" questions raise the turns whose text states a frequency ("three times a week")
    by ``answer_type_weight``; the others stay."""
    with rule_on_and_off(tmp_path, HABITS, "habits", "answer_type_weight") as (memory, off, weight):
        # "how often" asks for a frequency: W:1 states one ("three times a week")
        query = "How often do I work out with my father?"
        on_hits = {h.source_id: h for h in memory.search(query, k=6)}
        off_hits = {h.source_id: h for h in off.search(query, k=6)}
        assert_lifted_alone(on_hits, off_hits, "W:1", weight, "a frequency")
        assert max(off_hits.values(), key=lambda h: h.score).source_id != "W:1"
        assert max(on_hits.values(), key=lambda h: h.score).source_id == "W:1"


PASTIMES = chat("pastimes", ("Nia", "Tom"),
    ("fair", "2024-05-01T10:00:00", [
        ("F:1", "Nia", "So many activities at the school fair, it was loud."),
        ("F:2", "Tom", "Did you find anything there you would enjoy?"),
    ]),
    ("lake", "2024-05-09T10:00:00", [
        ("K:1", "Nia", "Last Sunday we went kayaking on the lake, the water was like glass."),
        ("K:2", "Tom", "That sounds lovely, the weather was perfect."),
    ]),
)


def test_auto_raises_turns_naming_a_pastime_when_a_question_asks_for_activities(tmp_path):
    """"What activities ..." questions raise the turns whose text names a pastime ("we went
    kayaking") by ``answer_type_weight``: the question shares no word with them."""
    with rule_on_and_off(tmp_path, PASTIMES, "pastimes", "answer_type_weight") as (memory, off, weight):
        query = "What activities does Nia enjoy?"
        on = memory.search(query, k=4)
        off_hits = {h.source_id: h for h in off.search(query, k=4)}
        on_hits = {h.source_id: h for h in on}
        assert_lifted_alone(on_hits, off_hits, "K:1", weight, "an activity")
        assert max(off_hits.values(), key=lambda h: h.score).source_id == "F:1"  # its words
        ranked_off = sorted(off_hits, key=lambda t: -off_hits[t].score)
        assert [h.source_id for h in on].index("K:1") < ranked_off.index("K:1")  # above F:2 now


TRIPS = {
    "format": "graphmem.conversation/1",
    "id": "trips",
    "speakers": ["Ana", "Ben"],
    "sessions": [
        {"id": "s1", "started_at": "2024-04-02T10:00:00", "turns": [
            {"id": "T:1", "speaker": "Ana", "text": "Travelling is my thing, I go on trips whenever I can."},
            {"id": "T:2", "speaker": "Ben", "text": "Sounds like a busy spring!"},
            {"id": "T:3", "speaker": "Ana", "text": "We finally spent a week in Lisbon and loved the trams."},
            {"id": "T:4", "speaker": "Ben", "text": "I just finished reading \"The Hobbit\" again, such a cozy book."},
        ]},
    ],
}


def test_auto_raises_turns_naming_the_kind_of_thing_a_question_asks_for(tmp_path):
    """A question asking for a place ("Where ...", "Which cities ...") raises, for every unit,
    the turns whose events name a place by ``answer_type_weight`` (``answer_type:turn`` in the
    explanation, with its route line); one asking "how long" the turns that state a span of
    time; other turns and other questions are unchanged."""
    with rule_on_and_off(tmp_path, TRIPS, "trips", "answer_type_weight") as (memory, off, weight):
        query = "Which places has Ana visited on her travels?"
        on_hits = {h.source_id: h for h in memory.search(query, k=4)}
        off_hits = {h.source_id: h for h in off.search(query, k=4)}
        assert max(off_hits.values(), key=lambda h: h.score).source_id == "T:1"  # the words match T:1 best
        lisbon = on_hits["T:3"]
        assert lisbon.explanation["contributions"]["answer_type:turn"] == pytest.approx(weight)
        assert lisbon.score == pytest.approx(off_hits["T:3"].score + weight, abs=1e-6)
        assert max(on_hits.values(), key=lambda h: h.score).source_id == "T:3"
        assert f"asks for a place -> turns whose events name one +{weight}" in lisbon.explanation["route"]
        assert "answer_type:turn" not in on_hits["T:1"].explanation["contributions"]
        assert on_hits["T:1"].score == pytest.approx(off_hits["T:1"].score, abs=1e-6)
        title = memory.search("What book did Ben read?", k=1)[0]
        assert title.source_id == "T:4" and "answer_type:turn" in title.explanation["contributions"]
        assert f"asks for a title -> turns whose events name one +{weight}" in title.explanation["route"]
        plain = "What does Ana love about trams?"
        assert [(h.source_id, round(h.score, 6)) for h in memory.search(plain, k=4)] == \
            [(h.source_id, round(h.score, 6)) for h in off.search(plain, k=4)]
        # "how long" asks for a span of time: T:3 states one ("a week"), T:1 does not
        query = "How long does Ana go away on her trips?"
        on_hits = {h.source_id: h for h in memory.search(query, k=4)}
        off_hits = {h.source_id: h for h in off.search(query, k=4)}
        assert max(off_hits.values(), key=lambda h: h.score).source_id == "T:1"
        assert on_hits["T:3"].explanation["contributions"]["answer_type:turn"] == pytest.approx(weight)
        assert on_hits["T:3"].score == pytest.approx(off_hits["T:3"].score + weight, abs=1e-6)
        assert max(on_hits.values(), key=lambda h: h.score).source_id == "T:3"
        assert f"asks for a span of time -> turns that state one +{weight}" in on_hits["T:3"].explanation["route"]
        assert on_hits["T:1"].score == pytest.approx(off_hits["T:1"].score, abs=1e-6)


def test_auto_lifts_the_named_speakers_turns_when_a_question_gathers_what_they_did(tmp_path):
    """An aggregation question naming one speaker ("What books has Ben read?") raises that
    speaker's turns by ``named_speaker_weight`` for every unit (``speaker:turn``, with a route
    line); the other speaker's turns, and a question without the cue, are unchanged."""
    with rule_on_and_off(tmp_path, TRIPS, "trips", "named_speaker_weight") as (memory, off, weight):
        query = "What books has Ben read?"
        on_hits = {h.source_id: h for h in memory.search(query, k=4)}
        off_hits = {h.source_id: h for h in off.search(query, k=4)}
        for turn in ("T:2", "T:4"):  # Ben's
            hit = on_hits[turn]
            assert hit.explanation["contributions"]["speaker:turn"] == pytest.approx(weight)
            assert hit.score == pytest.approx(off_hits[turn].score + weight, abs=1e-6)
            assert f"gathers what Ben did -> Ben's turns +{weight}" in hit.explanation["route"]
        for turn in ("T:1", "T:3"):  # Ana's
            assert "speaker:turn" not in on_hits[turn].explanation["contributions"]
            assert on_hits[turn].score == pytest.approx(off_hits[turn].score, abs=1e-6)
        session = memory.search(query, k=1, unit="session")[0]
        assert session.explanation["contributions"]["speaker:turn"] == pytest.approx(weight)
        for plain in ("Did Ben like the book he finished?", "What books have Ana and Ben read?"):
            assert [(h.source_id, round(h.score, 6)) for h in memory.search(plain, k=4)] == \
                [(h.source_id, round(h.score, 6)) for h in off.search(plain, k=4)], plain


PALS = {
    "format": "graphmem.conversation/1",
    "id": "pals",
    "speakers": ["Melanie", "Caroline"],
    "sessions": [
        {"id": "s1", "started_at": "2024-04-02T10:00:00", "turns": [
            {"id": "P:1", "speaker": "Caroline", "text": "Hey Mel! How are the kids?"},
            {"id": "P:2", "speaker": "Melanie", "text": "Great! I finished reading \"Charlotte's Web\" with them last night."},
            {"id": "P:3", "speaker": "Caroline", "text": "Thanks Mel, I loved \"Becoming Nicole\" myself, such a good book."},
        ]},
    ],
}


def test_a_speaker_named_by_an_alias_is_the_named_speaker(tmp_path):
    """The ingest resolves "Mel" as an alias of Melanie; a gathering question that calls her Mel
    lifts Melanie's turns, and her book comes first."""
    with rule_on_and_off(tmp_path, PALS, "pals", "named_speaker_weight") as (memory, off, weight):
        assert memory.cypher("MATCH (a:Entity)-[:ALIAS_OF]->(b:Entity) WHERE a.namespace = $namespace "
                             "RETURN a.name AS alias, b.name AS name") == [{"alias": "Mel", "name": "Melanie"}]
        query = "What books has Mel read?"
        on_hits = {h.source_id: h for h in memory.search(query, k=3)}
        off_hits = {h.source_id: h for h in off.search(query, k=3)}
        assert on_hits["P:2"].explanation["contributions"]["speaker:turn"] == pytest.approx(weight)
        assert on_hits["P:2"].score == pytest.approx(off_hits["P:2"].score + weight, abs=1e-6)
        assert "speaker:turn" not in on_hits["P:3"].explanation["contributions"]
        assert max(on_hits.values(), key=lambda h: h.score).source_id == "P:2"
        assert max(off_hits.values(), key=lambda h: h.score).source_id == "P:3"


READING = chat("reading", ("user", "assistant"),
    ("papers", "2024-05-02T10:00:00", [
        ("P:1", "user", "I work on deep learning for medical image analysis, mostly tumour segmentation in MRI scans."),
        ("P:2", "assistant", "Transformers and self-supervised pretraining have changed segmentation of MRI scans."),
    ]),
    ("food", "2024-05-09T10:00:00", [
        ("F:1", "user", "Can you recommend some recent restaurants I might find interesting in Lisbon?"),
        ("F:2", "assistant", "Try the seafood places in Alfama; they are popular."),
    ]),
    ("garden", "2024-05-16T10:00:00", [
        ("G:1", "user", "My tomatoes have yellow leaves since the rain."),
        ("G:2", "assistant", "Yellow leaves after heavy rain often mean overwatering."),
        ("G:3", "user", "I will attend the garden show and the seed conference, then read about soil."),
    ]),
)


def test_auto_judges_a_session_also_by_its_best_dense_match(tmp_path):
    """For ``unit="session"``, auto adds ``session_dense_weight`` times each session's best
    dense match (the dense strategy's best turn cosine), min-max scaled over the sessions
    (``dense_best:session`` in the explanation, with a route line); turns keep their scores."""
    with rule_on_and_off(tmp_path, READING, "reading", "session_dense_weight") as (memory, off, weight):
        query = "What scientific research do I work on?"
        cosine = {}
        for hit in memory.search(query, k=10, strategy="dense"):
            cosine[hit.session_key] = max(cosine.get(hit.session_key, -1.0), hit.score)
        low, high = min(cosine.values()), max(cosine.values())
        assert high > low
        on = {h.session_key: h for h in memory.search(query, k=3, unit="session")}
        off_hits = {h.session_key: h for h in off.search(query, k=3, unit="session")}
        assert set(on) == set(off_hits) == set(cosine) == {"papers", "food", "garden"}
        for key, hit in on.items():
            part = weight * (cosine[key] - low) / (high - low)
            assert hit.score == pytest.approx(off_hits[key].score + part, abs=1e-4)
            assert hit.explanation["contributions"].get("dense_best:session", 0.0) == pytest.approx(part, abs=1e-4)
            assert sum(hit.explanation["contributions"].values()) == pytest.approx(hit.score, abs=1e-3)
            assert (f"ranks sessions -> each one's best dense match (min-max over sessions) x{weight}"
                    in hit.explanation["route"])
        best = max(cosine, key=cosine.get)
        assert on[best].explanation["contributions"]["dense_best:session"] == pytest.approx(weight)
        assert "dense_best:session" not in on[min(cosine, key=cosine.get)].explanation["contributions"]
        # the ranking moves: with the rule the garden session passes the food one
        assert [h.session_key for h in memory.search(query, k=3, unit="session")] == ["papers", "garden", "food"]
        assert [h.session_key for h in off.search(query, k=3, unit="session")] == ["papers", "food", "garden"]
        for unit in ("turn", "event", "episode"):
            assert [(h.node_id, round(h.score, 6)) for h in memory.search(query, k=5, unit=unit)] == \
                [(h.node_id, round(h.score, 6)) for h in off.search(query, k=5, unit=unit)], unit


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_explains_every_hit(pets, strategy):
    hits = pets.search("Who is teaching Raj the cello?", k=4, strategy=strategy)
    assert hits and all(h.strategy == strategy for h in hits)
    for hit in hits:
        assert hit.explanation["strategy"] == strategy and hit.explanation["contributions"]
        text = pets.explain(hit)
        assert text.splitlines()[0].endswith(f"strategy {strategy}") and len(text.splitlines()) >= 3


# ---------------------------------------------------------------------------- units, time, determinism
def test_hits_are_mapped_to_the_requested_unit(pets):
    query = "How long did the Lisbon marathon take?"
    session = pets.search(query, k=2, unit="session")[0]
    assert session.unit == "session" and session.session_number == 2 and session.node_id.startswith("session:")
    assert session.explanation["via"]["label"] == "turn R2:1"
    event = pets.search(query, k=2, unit="event")[0]
    assert event.unit == "event" and event.node_id.startswith("event:") and event.source_id == "R2:1"
    assert "marathon" in event.text and event.speaker == "Raj"
    episode = pets.search(query, k=2, unit="episode")[0]
    assert episode.unit == "episode" and episode.session_number == 2 and episode.source_id.startswith("R2:")
    for strategy in STRATEGIES:
        assert pets.search(query, k=1, unit="session", strategy=strategy)[0].session_number == 2, strategy


def test_graph_walks_return_k_hits_whenever_k_units_match(pets):
    """activation and expansion rank only what their walk reaches from the query's seeds: under a
    filter whose units share nothing with the query (no seed among them), or a k larger than what
    they reach, they returned fewer hits than units matched (none at all here), while the README
    promises k whenever k match. The units not reached follow the reached ones, by cosine."""
    raj = len(pets.cypher("MATCH (t:Turn {speaker: 'Raj'}) WHERE t.namespace = $namespace RETURN t.id AS id"))
    every = len(pets.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.id AS id"))
    for strategy in ("activation", "expansion"):
        hits = pets.search("printer toner cartridge", k=50, speaker="Raj", strategy=strategy)
        assert len(hits) == raj and {h.speaker for h in hits} == {"Raj"}, strategy
        assert len(pets.search("Ingrid and the cello", k=50, strategy=strategy)) == every, strategy
        for hit in hits:
            parts = hit.explanation["contributions"]
            assert abs(sum(parts.values()) - hit.score) < 1e-3, (strategy, hit.explanation)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_time_range_filters_on_the_unit_time(pets):
    query = "Ingrid and the cello"
    everything = pets.search(query, k=10)
    assert {h.session_number for h in everything} == {1, 2}
    later = pets.search(query, k=10, time_range=("2024-05-01", None))
    assert later and {h.session_number for h in later} == {2}
    march = pets.search(query, k=10, unit="session", time_range=(date(2024, 3, 1), datetime(2024, 3, 31, 23, 59)))
    assert [h.session_number for h in march] == [1]
    assert pets.search(query, k=10, time_range=("2023-01-01", "2023-12-31")) == []
    # an end given as a day is the whole day: (day, day) held nothing (it ended at the day's midnight)
    for day in (("2024-05-18", "2024-05-18"), (date(2024, 5, 18), date(2024, 5, 18))):
        found = pets.search(query, k=10, time_range=day)
        assert found and {h.session_number for h in found} == {2}, day
    assert {h.session_number for h in pets.search(query, k=10, time_range=(None, "2024-05-18"))} == {1, 2}
    assert pets.search(query, k=10, time_range=("2024-05-18", "2024-05-18T19:00:00")) == []  # a time is that instant
    for bad in (("2024-05-01",), ("not a date", None), ("2024-06-01", "2024-05-01"), "2024"):
        with pytest.raises(InputError):
            pets.search(query, time_range=bad)


DAYS = {
    "format": "graphmem.conversation/1",
    "id": "retrieval-days",
    "speakers": ["Lea", "Tom"],
    "sessions": [
        {"id": "1", "started_at": "2023-04-15T10:00:00", "turns": [
            {"id": "D1:1", "speaker": "Lea", "text": "I went hiking with Sam at Bear Lake."},
            {"id": "D1:2", "speaker": "Tom", "text": "That sounds lovely."},
        ]},
        {"id": "2", "started_at": "2023-05-27T10:00:00", "turns": [
            {"id": "D2:1", "speaker": "Lea", "text": "I went hiking with Sam at Bear Lake."},
            {"id": "D2:2", "speaker": "Tom", "text": "That sounds lovely."},
        ]},
        {"id": "3", "started_at": "2023-06-10T10:00:00", "turns": [
            {"id": "D3:1", "speaker": "Lea", "text": "On May 5 I went kayaking with Sam."},
            {"id": "D3:2", "speaker": "Lea", "text": "On June 9 I went kayaking with Sam."},
        ]},
    ],
}


def test_relative_times_in_a_query_resolve_against_when_it_is_asked(tmp_path, embedder):
    source = write_conversation(tmp_path, DAYS, "days.json")
    with memories(Backend("embedded", str(tmp_path / "store")), settings_for(tmp_path)) as factory:
        memory = factory("retrieval-days")
        memory.ingest(source)
        hiking = "Where did I go hiking last Saturday?"
        # the same words were said on two Saturdays: the one before the question wins
        assert sources(memory.search(hiking, k=2, as_of="2023-05-30"))[0] == "D2:1"
        assert sources(memory.search(hiking, k=2, as_of=date(2023, 4, 18)))[0] == "D1:1"
        assert memory.search(hiking, k=1, unit="session", as_of=datetime(2023, 4, 18, 9))[0].session_number == 1
        # the day a turn says something happened counts too
        kayak = "Where did I go kayaking with Sam last Friday?"
        top = memory.search(kayak, k=2, as_of="2023-06-12")[0]
        assert top.source_id == "D3:2"
        assert top.explanation["time"]["days"] == ["2023-06-09"]
        assert "date in the query (days 2023-06-09)" in memory.explain(top)
        assert "time: the query names days 2023-06-09; this memory's date matches" in memory.explain(top)
        assert top.explanation["time"]["match"] == 1.0
        assert sources(memory.search(kayak, k=2, as_of="2023-05-08"))[0] == "D3:1"
        for bad in ("not a date", "2023-13-01", 20230508, "9999-12-31T23:00:00-12:00"):  # the last: past 9999 in UTC
            with pytest.raises(InputError, match="as_of"):
                memory.search(kayak, as_of=bad)
        # a memory near the days named, not on them: said so (it read "matches" for a partial match)
        memory.add({"speaker": "Lea", "text": "I visited the science museum with my nephew.", "timestamp": "2024-03-18T10:00:00"},
                   conversation="museum")
        (near,) = memory.search("What did I do two weeks ago?", k=1, as_of="2024-03-30T12:00:00", conversation="museum")
        assert 0 < near.explanation["time"]["match"] < 1, near.explanation
        assert "this memory's date is near them (match 0.667)" in memory.explain(near), memory.explain(near)


def test_same_query_same_hits(pets):
    for strategy in STRATEGIES:
        first = pets.search("Marco's greyhound", k=5, strategy=strategy)
        second = pets.search("Marco's greyhound", k=5, strategy=strategy)
        assert [(h.node_id, h.score) for h in first] == [(h.node_id, h.score) for h in second]
        assert [h.explanation for h in first] == [h.explanation for h in second]


def test_bad_arguments_are_refused(pets):
    with pytest.raises(InputError):
        pets.search("x", strategy="magic")
    with pytest.raises(InputError):
        pets.search("x", unit="paragraph")
    with pytest.raises(InputError):
        pets.explain("not a hit")


# ---------------------------------------------------------------------------- caches
def test_new_ingest_is_searchable_without_reopening(tmp_path):
    settings = settings_for(tmp_path)
    with Memory.open(tmp_path / "store", "retrieval-update", settings=settings) as memory:
        memory.ingest(write_conversation(tmp_path, PETS, "pets.json"))
        assert "R3:2" not in sources(memory.search("red kayak", k=3, strategy="lexical"))
        assert memory.search("red kayak", k=3, strategy="lexical")[0].score == 0
        memory.ingest(write_conversation(tmp_path, LATER, "later.json"))
        for strategy in STRATEGIES:
            assert memory.search("Marco's red kayak", k=3, strategy=strategy)[0].source_id == "R3:2", strategy
        assert memory.search("chapel rehearsal", k=1, unit="session")[0].session_number == 3


def test_caches_are_rebuilt_after_deletion(tmp_path):
    settings = settings_for(tmp_path)
    location = tmp_path / "store"
    with Memory.open(location, "retrieval-rebuild", settings=settings) as memory:
        memory.ingest(write_conversation(tmp_path, PETS, "pets.json"))
        before = {s: [(h.node_id, round(h.score, 6)) for h in memory.search("Pixel the greyhound", k=5, strategy=s)]
                  for s in STRATEGIES}
        cache = memory.store.cache_dir(namespace_slug(memory.namespace))
    assert (cache / "projection.npz").exists() and (cache / "lexical" / "turn").is_dir()
    shutil.rmtree(cache)
    with Memory.open(location, "retrieval-rebuild", settings=settings) as memory:
        after = {s: [(h.node_id, round(h.score, 6)) for h in memory.search("Pixel the greyhound", k=5, strategy=s)]
                 for s in STRATEGIES}
    assert after == before
    assert (cache / "projection.npz").exists() and (cache / "turn.json").exists()
    (cache / "projection.npz").write_bytes(b"damaged")  # an unreadable cache is rebuilt, not trusted
    with Memory.open(location, "retrieval-rebuild", settings=settings) as memory:
        assert [(h.node_id, round(h.score, 6)) for h in memory.search("Pixel the greyhound", k=5, strategy="auto")] == before["auto"]


# ---------------------------------------------------------------------------- both backends, CLI
@pytest.mark.parametrize("backend", ["embedded", "bolt"], indirect=True)
def test_projection_loads_on_every_backend(backend, tmp_path, embedder):
    with memories(backend, settings_for(tmp_path)) as factory:
        memory = factory()
        memory.ingest(write_conversation(tmp_path, PETS, "pets.json"))
        other = factory()  # another namespace of the same store stays invisible
        other.ingest(write_conversation(tmp_path, dict(LATER, id="someone-else"), "other.json"))
        engine = memory._service().caches.engine()  # noqa: SLF001 - inspecting the loaded projection
        projection = engine.projection
        stats = memory.stats()["nodes"]
        assert projection.n_turns == stats["Turn"] == 10
        assert len(projection.event_ids) == stats["Event"] and len(projection.entity_ids) == stats["Entity"]
        assert len(projection.episode_ids) == stats["Episode"] and len(projection.session_ids) == 2
        assert projection.involves_event.size > 0 and projection.assoc_src.size > 0
        stating = {projection.turn_source[i] for i in range(projection.n_turns) if projection.turn_states_time[i]}
        assert {"R1:4", "R2:3"} <= stating and "R1:1" not in stating  # "last week", "Yesterday"
        assert "R3:2" not in sources(memory.search("Marco's red kayak", k=10, strategy="lexical"))
        assert memory.search("Marco's red kayak", k=10, strategy="lexical")[0].source_id in {"R1:1", "R1:3"}
        hits = memory.search("What happened with Marco lately?", k=5, strategy="activation")
        assert "R2:3" in sources(hits)


def test_cli_search_explains(tmp_path):
    location = str(tmp_path / "store")
    settings = settings_for(tmp_path)
    with Memory.open(location, "cli-retrieval", settings=settings) as memory:
        memory.ingest(write_conversation(tmp_path, PETS, "pets.json"))
    runner = CliRunner()
    result = runner.invoke(app, ["search", "What happened with Marco lately?", "--store", location, "-n", "cli-retrieval",
                                 "--strategy", "activation", "--unit", "session", "-k", "2", "--explain"])
    assert result.exit_code == 0, result.output
    assert "strategy activation" in result.output and "seeds:" in result.output and "entity Marco" in result.output
    result = runner.invoke(app, ["search", "marathon", "--store", location, "-n", "cli-retrieval", "--json", "--explain",
                                 "--since", "2024-05-01"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows[0]["source_id"] == "R2:1" and rows[0]["explanation"]["strategy"] == "auto"
    assert "contributions:" in rows[0]["explanation_text"]
    assert all(r["session_number"] == 2 for r in rows)
    bad = runner.invoke(app, ["search", "marathon", "--store", location, "-n", "cli-retrieval", "--strategy", "nope"])
    assert bad.exit_code == 2


def test_the_engine_after_an_add_takes_over_what_it_would_build_the_same(tmp_path, embedder):
    """After an add, the new engine reuses the stale one's entity matcher when the entities and
    their aliases are unchanged (and makes a new one when the add brought an entity), and the
    BM25 index built on first use (events) is updated from the stale one: every score as a
    build from scratch gives."""
    from graphmem.retrieve.engine import build_lexical

    with Memory.open(tmp_path / "store", "inherit", settings=settings_for(tmp_path)) as memory:
        memory.ingest(write_conversation(tmp_path, PETS, "pets.json"))
        caches = memory._service().caches  # noqa: SLF001 - inspecting the engines
        first = caches.engine()
        assert [p for p, _ in first.matcher.match("How is Marco doing?")]
        first.lexical("event")
        memory.add({"speaker": "Raj", "text": "I practised the cello lessons for two hours yesterday."}, conversation="retrieval-ana-raj")
        second = caches.engine()
        assert second is not first and second.projection.n_turns == first.projection.n_turns + 1
        assert second.projection.entity_name == first.projection.entity_name  # the add named no new entity
        assert second.matcher is first.matcher
        assert second._stale_lexical["event"] is first.lexical("event")  # noqa: SLF001 - the index updated below
        events = second.lexical("event")
        assert "event" not in second._stale_lexical and len(events) == len(second.projection.event_ids)  # noqa: SLF001
        fresh = build_lexical(second.projection, "event")
        for query in ("cello lessons", "Marco greyhound Pixel", "marathon Lisbon"):
            assert np.array_equal(events.scores(query), fresh.scores(query)), query
        memory.add({"speaker": "Ana", "text": "My cousin Zorblax Quentaro visits from Oslo next week."}, conversation="retrieval-ana-raj")
        third = caches.engine()
        assert third.matcher is not second.matcher
        assert any(third.projection.entity_name[p] == "Zorblax Quentaro" for p, _ in third.matcher.match("Is Zorblax Quentaro here?"))
