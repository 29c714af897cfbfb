"""Which turns ask and which answer, as the projection marks them for ``auto`` (the
question-turn penalty and the answer-turn bonus of :class:`RetrievalConfig`)."""

from __future__ import annotations

from graphmem.retrieve.projection import MemoryProjection


def _turn(tid: str, session: str, seq: int, speaker: str, text: str) -> dict:
    return {"id": tid, "session_id": session, "conversation_id": "c", "seq": seq, "speaker": speaker, "text": text}


def test_a_question_marks_the_next_turn_of_another_person_as_an_answer():
    p = MemoryProjection.from_rows(
        turns=[
            _turn("t1", "s1", 1, "Ana", "How are the cello lessons going?"),
            _turn("t2", "s1", 2, "Raj", "Slowly, but Ingrid is patient."),      # answers Ana
            _turn("t3", "s1", 3, "Raj", "Do you still run?  "),                  # asks (trailing space)
            _turn("t4", "s1", 4, "Raj", "I ran ten miles."),                     # same speaker: no answer
            _turn("t5", "s2", 1, "Ana", "Yes, every Sunday."),                   # new session: no answer
            _turn("t6", "s2", 2, "user", "Which laptop should I buy?"),
            _turn("t7", "s2", 3, "assistant", "A light one with a long battery."),  # an assistant's answer
            _turn("t8", "s2", 4, "Assistant", "Anything else?"),
            _turn("t9", "s2", 5, "user", "My budget is 900 dollars."),           # the user answering counts
        ],
        sessions=[{"id": "s1", "conversation_id": "c", "key": "1", "number": 1},
                  {"id": "s2", "conversation_id": "c", "key": "2", "number": 2}])
    asks = dict(zip(p.turn_ids, p.turn_asks.tolist()))
    answers = dict(zip(p.turn_ids, p.turn_answers.tolist()))
    assert [t for t, v in asks.items() if v] == ["t1", "t3", "t6", "t8"]
    assert [t for t, v in answers.items() if v] == ["t2", "t9"]
