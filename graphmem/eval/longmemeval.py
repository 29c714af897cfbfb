"""LongMemEval evaluation cases: each question's haystack in a namespace of its own."""

from __future__ import annotations

import logging
from pathlib import Path

from graphmem.errors import InputError
from graphmem.eval.harness import EvalCase, EvalQuestion
from graphmem.extract.temporal import parse_session_datetime
from graphmem.loaders import read_json
from graphmem.loaders.longmemeval import is_longmemeval, parse_longmemeval
from graphmem.records import validate_records

__all__ = ["longmemeval_cases"]

logger = logging.getLogger(__name__)


def longmemeval_cases(path: Path, limit: int | None = None) -> tuple[list[EvalCase], int]:
    """Read a LongMemEval file (``.json`` or ``.json.gz``) into cases.

    Abstention questions (``_abs``) are skipped. Each question is asked at its
    ``question_date``. Returns the cases and how many abstention questions were skipped.
    """
    data = read_json(Path(path))
    if not is_longmemeval(data):
        raise InputError(f"{path}: not a LongMemEval file: expected a list of questions with 'haystack_sessions'")
    questions = parse_longmemeval(Path(path), data)
    kept = [q for q in questions if not q.is_abstention]
    skipped = len(questions) - len(kept)
    if limit is not None:
        kept = kept[:limit]
    cases = [
        EvalCase(
            name=q.question_id,
            conversations=(q.conversation,),
            questions=(EvalQuestion(
                ident={"question_id": q.question_id, "question_type": q.question_type},
                question=q.question, category=q.question_type,
                gold_turns=q.answer_turn_ids, gold_sessions=q.answer_session_ids,
                as_of=parse_session_datetime(q.question_date) if q.question_date else None,
            ),),
        )
        for q in kept if q.conversation.sessions
    ]
    validate_records([c for case in cases for c in case.conversations], str(path))  # the whole file, before any ingest
    return cases, skipped
