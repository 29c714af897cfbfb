"""LoCoMo evaluation cases: one namespace per conversation, its QA as questions."""

from __future__ import annotations

from pathlib import Path

from graphmem.errors import InputError
from graphmem.eval.harness import EvalCase, EvalQuestion
from graphmem.eval.metrics import parse_evidence_ids, session_of_dia_id
from graphmem.loaders import read_json
from graphmem.loaders.locomo import parse_locomo
from graphmem.records import validate_records

__all__ = ["locomo_cases"]


def locomo_cases(path: Path) -> list[EvalCase]:
    """Read a LoCoMo file (``locomo10.json`` layout) into evaluation cases.

    The file gives no question dates: each question is asked at the last time its
    conversation states (``EvalQuestion.as_of``), after the conversation."""
    data = read_json(Path(path))
    if not isinstance(data, list):
        data = [data]
    records = parse_locomo(Path(path), data)
    cases = []
    for index, (sample, record) in enumerate(zip(data, records)):
        qa = sample.get("qa", [])
        if not isinstance(qa, list):
            raise InputError(f"{path}: [{index}].qa: expected an array")
        # LoCoMo gives no question dates: they are asked after the conversation, at its last
        # time (so that "last year" in a question means the same on any day the eval runs)
        times = [t for session in record.sessions for t in [session.started_at, *(turn.timestamp for turn in session.turns)]
                 if t is not None]
        asked = max(times) if times else None
        questions = []
        for qi, item in enumerate(qa):
            if not isinstance(item, dict) or not isinstance(item.get("question"), str):
                raise InputError(f"{path}: [{index}].qa[{qi}]: expected an object with a 'question' string")
            gold = parse_evidence_ids(item.get("evidence"))
            questions.append(EvalQuestion(
                ident={"sample_id": record.key, "qa_index": qi},
                question=item["question"],
                category=item.get("category"),
                gold_turns=tuple(gold),
                gold_sessions=tuple(dict.fromkeys(session_of_dia_id(d) for d in gold)),
                as_of=asked,
            ))
        cases.append(EvalCase(name=record.key, conversations=(record,), questions=tuple(questions)))
    validate_records(records, str(path))  # the whole file, before the first conversation is ingested and scored
    return cases
